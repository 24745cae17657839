// TEST ONLY: several real `parley serve` processes as one cluster: the real
// MariaDB (a run-unique room and users) and the real Redis behind a proxy the
// test can cut or freeze, with a run-unique channel prefix so parallel runs
// never hear each other.
import {randomBytes} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {AccountStore} from '../../server/store/account-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {MYSQL_URL} from '../store/backends.js';
import {metricsBase} from './metrics-scrape.js';
import {type RawMember, rawLogin} from './tcp-raw-client.js';
import {startTcpProxy, type TcpProxy} from './tcp-proxy.js';
import {ServeProcess, freePort} from './tcp-serve-process.js';

export const REDIS_PORT = Number(process.env.PARLEY_TEST_REDIS_PORT ?? 6379);
export const password = (user: string): string => `${user} password`;

export interface Node {
	name: string;
	port: number;
	serve: ServeProcess;
	metrics: string;
}

export class Cluster {
	readonly prefix = `parley-test-${randomBytes(4).toString('hex')}:`;
	readonly nodes: Node[] = [];
	private readonly dirs: string[] = [];

	private constructor(
		readonly redis: TcpProxy,
		readonly room: string,
	) {}

	static async create(room: string): Promise<Cluster> {
		return new Cluster(await startTcpProxy(REDIS_PORT), room);
	}

	/** Starts a node; `db` overrides the database URL (a proxy in front of it). */
	async start(name: string, extraArgs: string[] = [], db = MYSQL_URL): Promise<Node> {
		const dataDir = await mkdtemp(path.join(tmpdir(), `parley-cluster-${name}-`));
		this.dirs.push(dataDir);
		const port = await freePort();
		const metricsPort = await freePort();
		const serve = await ServeProcess.start({
			tcpPort: port,
			dataDir,
			db,
			room: this.room,
			extraArgs: [
				'--redis',
				`redis://127.0.0.1:${this.redis.port}`,
				'--redis-prefix',
				this.prefix,
				'--node-name',
				name,
				// Dead nodes noticed quickly, unless the test says otherwise.
				...(extraArgs.includes('--cluster-node-timeout-ms') ? [] : ['--cluster-node-timeout-ms', '1500']),
				'--rate-limit',
				'200',
				'--rate-burst',
				'400',
				'--metrics-port',
				String(metricsPort),
				...extraArgs,
			],
		});
		await serve.waitForLine(/metrics on http/);
		const node = {name, port, serve, metrics: metricsBase(serve.log)};
		this.nodes.push(node);
		return node;
	}

	async close(): Promise<void> {
		this.redis.restore();
		this.redis.holdReplies(false);
		await Promise.all(this.nodes.map((node) => node.serve.stop()));
		await this.redis.close();
		await Promise.all(this.dirs.map((dir) => rm(dir, {recursive: true, force: true})));
	}
}

export async function createUsers(store: AccountStore, users: string[]): Promise<void> {
	for (const user of users) await store.createUser(user, await deriveVerifier(password(user)));
}

/** Logs in on the node and joins its default room (version 2), with `since` for a rejoin. */
export async function member(node: Node, user: string, since?: number): Promise<RawMember> {
	const raw = await rawLogin(node.port, user, password(user));
	raw.send({t: 'hello', nick: user, v: 2, ...(since === undefined ? {} : {since})});
	await raw.next('welcome', 0, () => true, 10_000);
	return raw;
}

type Frame = RawMember['frames'][number];

/** The room events (chat and sequenced presence) a member was sent, in arrival order. */
export function sequenced(raw: RawMember): Array<Frame & {seq: number}> {
	const events: Array<Frame & {seq: number}> = [];
	for (const frame of raw.frames) {
		if ((frame.t === 'msg' || frame.t === 'presence') && typeof frame.seq === 'number')
			events.push(frame as Frame & {seq: number});
		if (frame.t === 'history')
			for (const inner of frame.messages as Frame[])
				if (typeof inner.seq === 'number') events.push(inner as Frame & {seq: number});
	}
	return events;
}

export const texts = (raw: RawMember): string[] =>
	sequenced(raw)
		.filter((e) => e.t === 'msg')
		.map((e) => `${e.seq} ${e.from}: ${e.text}`);
