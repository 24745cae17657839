// Token login over real TLS: {t:'auth-token', token} answered by auth-ok in
// one step; wrong, revoked and malformed tokens get the generic failure and
// count against the same throttle as passwords; plaintext servers refuse it.
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import {issueToken} from '../../server/auth/bot-tokens.js';
import {LoginThrottle} from '../../server/auth/login-throttle.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {RawMember} from '../helpers/tcp-raw-client.js';
import {tcpFixture, type TcpFixture} from '../helpers/tcp-fixture.js';
import {waitFor} from '../helpers/wait.js';
import {sqliteBackend, uniqueName, type Backend} from '../store/backends.js';

async function connect(port: number, plaintext = false): Promise<RawMember> {
	const socket = plaintext
		? net.connect({host: '127.0.0.1', port})
		: tls.connect({host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3'});
	await new Promise<void>((resolve, reject) => {
		socket.once(plaintext ? 'connect' : 'secureConnect', resolve);
		socket.once('error', reject);
	});
	const member = new RawMember(socket as tls.TLSSocket);
	await member.next('auth-mechs');
	return member;
}

/** Sends the token; resolves with the server's answer (auth-ok or error). */
async function presentToken(port: number, token: unknown, plaintext = false) {
	const member = await connect(port, plaintext);
	member.send({t: 'auth-token', token});
	const answer = await waitFor(() => member.frames.find((f) => f.t === 'auth-ok' || f.t === 'error'), {
		what: 'an answer to auth-token',
	});
	return {member, answer};
}

async function addToken(store: AccountStore, user: string) {
	const issued = issueToken();
	await store.createToken(user, {id: issued.id, label: 'test', hash: issued.hash, createdAt: Date.now()});
	return issued;
}

describe('token login', () => {
	let source: Backend;
	let store: AccountStore;
	let room: TcpFixture;
	const bot = uniqueName('bot');
	const log: string[] = [];

	before(async () => {
		source = await sqliteBackend();
		store = await source.open();
		room = await tcpFixture(store, {
			throttle: new LoginThrottle({perAccount: {maxFailures: 3, windowMs: 60_000}}),
			log: (line) => log.push(line),
		});
		await room.addUser(bot, 'bot password');
	});
	after(async () => {
		await room.close();
		await store.close();
		await source.cleanup();
	});

	it('logs in as the token’s account in one step, joins and chats; last use is recorded', async () => {
		const issued = await addToken(store, bot);
		const before = Date.now();
		const {member, answer} = await presentToken(room.server.port, issued.token);
		assert.deepEqual(answer, {t: 'auth-ok', user: bot});
		member.send({t: 'hello', nick: 'ignored', v: 1});
		const welcome = await member.next('welcome');
		assert.equal(welcome.nick, bot, 'the nick is the account, whatever hello claims');
		member.send({t: 'say', ref: 'r1', text: 'beep'});
		const echo = await member.next('msg');
		assert.equal(echo.from, bot);
		assert.equal(echo.text, 'beep');
		member.close();
		let used: number | undefined;
		for (let tries = 0; used === undefined && tries < 100; tries++) {
			used = (await store.listTokens(bot)).find((t) => t.id === issued.id)?.lastUsedAt;
			if (used === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
		}
		assert.ok(used !== undefined && used >= before, `last used ${used}`);
	});

	it('refuses a wrong, a revoked and a malformed token like a wrong password, and never logs the token', async () => {
		const issued = await addToken(store, bot);
		const wrong = `${issued.token.slice(0, -2)}${issued.token.endsWith('AA') ? 'BB' : 'AA'}`;
		const results = [];
		results.push((await presentToken(room.server.port, wrong)).answer);
		assert.ok(await store.revokeToken(bot, issued.id));
		results.push((await presentToken(room.server.port, issued.token)).answer);
		results.push((await presentToken(room.server.port, 'parley_not-a-token')).answer);
		for (const answer of results) {
			assert.equal(answer.t, 'error');
			assert.equal(answer.code, 'auth-failed');
			assert.equal(answer.message, 'invalid user name or password');
		}
		const text = log.join('\n');
		assert.ok(!text.includes(issued.token) && !text.includes(issued.token.slice(-43)), text);
		assert.ok(room.server.stats.failedLogins >= 3);
	});

	it('counts failures in the login throttle and says when to retry', async () => {
		const issued = await addToken(store, bot);
		// Other secrets under the same id: flip bits the last character really
		// carries (its two lowest bits are padding, and such spellings are refused unread).
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		const lastValue = alphabet.indexOf(issued.token.at(-1)!);
		const others = [0b100, 0b1000, 0b10000].map((bit) => alphabet[lastValue ^ bit]);
		for (const last of others) {
			const {answer} = await presentToken(room.server.port, `${issued.token.slice(0, -1)}${last}`);
			assert.equal(answer.code, 'auth-failed');
		}
		// Even the right token waits now: guessing must not be able to tell a hit.
		const {answer} = await presentToken(room.server.port, issued.token);
		assert.equal(answer.code, 'throttled');
		assert.ok(typeof answer.retry_after_ms === 'number' && answer.retry_after_ms > 0, JSON.stringify(answer));
	});

	it('cuts off a token that is not a string or is far too long', async () => {
		for (const token of [42, 'x'.repeat(10_000)]) {
			const {member, answer} = await presentToken(room.server.port, token);
			assert.equal(answer.code, 'bad-request');
			await waitFor(() => member.closed, {what: 'the server hanging up'});
		}
	});

	it('is refused on a plaintext server, where the token would cross the wire readable', async () => {
		const plain = await tcpFixture(store, {tls: undefined});
		try {
			const issued = await addToken(store, bot);
			const {answer} = await presentToken(plain.server.port, issued.token, true);
			assert.equal(answer.code, 'not-allowed');
			assert.equal((await store.listTokens(bot)).find((t) => t.id === issued.id)?.lastUsedAt, undefined);
		} finally {
			await plain.close();
		}
	});
});
