// One password policy for every way an account gets a password. The server
// announces its minimum in auth-mechs; the client holds registrations to it
// before deriving the verifier (the server never sees a password), and the
// server refuses registrations from clients that do not say they did.
import assert from 'node:assert/strict';
import tls from 'node:tls';
import {after, before, describe, it} from 'node:test';
import {render, cleanup} from 'ink-testing-library';
import type {AccountStore} from '../../server/store/account-store.js';
import {checkNewPassword} from '../../source/cli/password-input.js';
import {DEFAULT_PASSWORD_POLICY, passwordProblem} from '../../source/protocol/password-policy.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {ChatScreen} from '../../source/tui/ChatScreen.js';
import {RawMember} from '../helpers/tcp-raw-client.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, uniqueName, type Backend} from '../store/backends.js';

const ANSI = /\u001B\[[0-9;]*m/g;

describe('password policy', () => {
	it('is one rule: too short or unpreparable is refused, by the CLI too', () => {
		assert.equal(DEFAULT_PASSWORD_POLICY.minLength, 8);
		assert.match(passwordProblem('short') ?? '', /too short: use at least 8 characters/);
		assert.equal(passwordProblem('eight ch'), undefined);
		assert.match(passwordProblem('eight ch', {minLength: 12}) ?? '', /at least 12/);
		assert.match(passwordProblem('password\u0007') ?? '', /prohibited/);
		assert.throws(() => checkNewPassword('short'), /too short: use at least 8 characters/);
	});

	describe('over a real TLS room', () => {
		let backend: Backend;
		let store: AccountStore;
		let room: TcpFixture;
		let strict: TcpFixture;

		before(async () => {
			backend = await sqliteBackend();
			store = await backend.open();
			room = await tcpFixture(store, {roomName: uniqueName('room'), allowRegister: true});
			strict = await tcpFixture(store, {
				roomName: uniqueName('strict'),
				allowRegister: true,
				passwordMin: 12,
			});
		});
		after(async () => {
			cleanup();
			await room?.close();
			await strict?.close();
			await store?.close();
			await backend?.cleanup();
		});

		it('announces its minimum; the client refuses a shorter password before sending anything', async () => {
			const name = uniqueName('shorty');
			const {client} = room.client();
			await assert.rejects(client.connect(name, 'short', {register: true}), /too short: use at least 8/);
			assert.equal(await store.getVerifier(name), undefined);
			const eleven = uniqueName('eleven');
			const other = strict.client();
			await assert.rejects(
				other.client.connect(eleven, 'eleven char', {register: true}),
				/too short: use at least 12/,
				'the server’s own minimum, not the default',
			);
			assert.equal(await store.getVerifier(eleven), undefined);
			const fine = strict.client();
			await fine.client.connect(eleven, 'twelve chars', {register: true});
			assert.equal(fine.client.state, 'connected');
		});

		it('refuses a registration that does not say it applied the policy', async () => {
			const socket = tls.connect({
				host: '127.0.0.1',
				port: room.server.port,
				rejectUnauthorized: false,
				minVersion: 'TLSv1.3',
			});
			await new Promise<void>((resolve, reject) => {
				socket.once('secureConnect', resolve);
				socket.once('error', reject);
			});
			const member = new RawMember(socket);
			try {
				const mechs = await member.next('auth-mechs');
				assert.equal(mechs.password_min, 8);
				const name = uniqueName('oldclient');
				const verifier = await deriveVerifier('short');
				member.send({
					t: 'register',
					user: name,
					salt: verifier.salt.toString('base64'),
					iterations: verifier.iterations,
					storedKey: verifier.storedKey.toString('base64'),
					serverKey: verifier.serverKey.toString('base64'),
				});
				const error = await member.next('error');
				assert.match(String(error.message), /at least 8 characters and this client does not check that/);
				assert.equal(await store.getVerifier(name), undefined);
			} finally {
				member.close();
			}
		});

		it('the login form’s Ctrl+R says the password is too short, and creates no account', async () => {
			const name = uniqueName('formuser');
			const {client} = room.client();
			const view = render(<ChatScreen client={client} nick={name} size={{columns: 100, rows: 20}} />);
			const frame = (): string => (view.lastFrame() ?? '').replace(ANSI, '');
			await waitFor(() => frame().includes('password>'), {what: 'the login form'});
			view.stdin.write('short');
			await waitFor(() => frame().includes('password> •••••'), {what: 'the typed password'});
			view.stdin.write('\u0012'); // Ctrl+R: create the account
			await waitFor(() => frame().includes('too short: use at least 8 characters'), {
				timeout: 10_000,
				what: `the refusal; screen:\n${frame()}`,
			});
			assert.equal(await store.getVerifier(name), undefined);
		});
	});
});
