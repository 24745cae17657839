// A TCP room server over a real store, with accounts, for tests; plus clients
// that log in over real TLS with their own known_hosts file.
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {loadOrCreateServerSecret} from '../../server/auth/server-secret.js';
import {LoginThrottle} from '../../server/auth/login-throttle.js';
import type {AccountStore} from '../../server/store/account-store.js';
import {
	startTcpRoomServer,
	type TcpRoomServer,
	type TcpRoomServerOptions,
} from '../../server/tcp/tcp-room-server.js';
import {loadOrCreateCertificate} from '../../server/tls/certificate.js';
import {KnownHosts} from '../../source/client/known-hosts.js';
import {RoomSession, type RoomSessionOptions} from '../../source/client/room-session.js';
import {TcpTransport, type TcpTransportOptions} from '../../source/client/tcp-transport.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {Recorder} from './room-recorder.js';

export interface TcpFixture {
	server: TcpRoomServer;
	store: AccountStore;
	dir: string;
	knownHosts: KnownHosts;
	addUser(name: string, password: string): Promise<void>;
	client(options?: Partial<TcpTransportOptions> & {session?: RoomSessionOptions}): TcpTestClient;
	login(user: string, password: string, port?: number): Promise<{client: RoomSession; events: Recorder}>;
	close(): Promise<void>;
}

export interface TcpTestClient {
	client: RoomSession;
	transport: TcpTransport;
	events: Recorder;
}

/** A room client over TLS that trusts a first-seen server (its fingerprint goes into `knownHosts`). */
export function tcpClient(options: TcpTransportOptions & {session?: RoomSessionOptions}): TcpTestClient {
	const {session, ...transportOptions} = options;
	const transport = new TcpTransport({confirmNewHost: async () => true, ...transportOptions});
	const client = new RoomSession(transport, session);
	return {client, transport, events: new Recorder(client)};
}

export async function tcpFixture(
	store: AccountStore,
	options: Partial<TcpRoomServerOptions> = {},
): Promise<TcpFixture> {
	const dir = await mkdtemp(path.join(tmpdir(), 'parley-tcp-'));
	const certificate = await loadOrCreateCertificate(dir);
	const server = await startTcpRoomServer({
		store,
		serverSecret: await loadOrCreateServerSecret(dir),
		dataDir: dir,
		tls: certificate,
		throttle: new LoginThrottle(),
		...options,
	});
	const knownHosts = new KnownHosts(path.join(dir, 'known_hosts'));
	const clients: RoomSession[] = [];
	const fixture: TcpFixture = {
		server,
		store,
		dir,
		knownHosts,
		async addUser(name, password) {
			await store.createUser(name, await deriveVerifier(password));
		},
		client(extra = {}) {
			const made = tcpClient({
				host: '127.0.0.1',
				port: server.port,
				knownHosts,
				...(options.tls === undefined && 'tls' in options ? {insecurePlaintext: true} : {}),
				...extra,
			});
			clients.push(made.client);
			return made;
		},
		async login(user, password, port) {
			const {client, events} = fixture.client(port === undefined ? {} : {port});
			await client.connect(user, password);
			return {client, events};
		},
		async close() {
			await Promise.all(clients.map((c) => c.close()));
			await server.close();
			await rm(dir, {recursive: true, force: true});
		},
	};
	return fixture;
}
