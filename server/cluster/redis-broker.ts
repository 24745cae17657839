// BrokerChannel over Redis pub/sub (node-redis): one client publishes, one
// subscribes (a subscribed Redis connection can do nothing else). Each payload
// travels in a small envelope with the publishing node and the send time, so a
// receiver knows where it came from and how long the hop took. The broker
// counts as up while both clients are connected AND this node hears its own
// probe come back: a frozen broker (connected, never answering) is down too.

import {createClient} from 'redis';
import type {Log} from '../log/log.js';
import type {BrokerChannel, PayloadOrigin} from './broker-channel.js';

export interface RedisBrokerOptions {
	/** redis://[user:pass@]HOST:PORT[/db] */
	url: string;
	nodeId: string;
	/** Put before every channel name, so several clusters (or test runs) share one Redis. */
	prefix?: string;
	/** How often the broker checks it hears itself (ms, default 1000); three silent probes mark it down. */
	probeMs?: number;
	/** Longest wait between reconnect attempts (ms, default 2000). */
	maxBackoffMs?: number;
	log?: Log;
	/** Each payload's trip from its publisher to here (seconds), for the hop histogram. */
	onHop?: (seconds: number) => void;
}

type Handler = (payload: Buffer, origin: PayloadOrigin) => void;

function newClient(url: string, maxBackoffMs: number) {
	return createClient({
		url,
		// Fire and forget: nothing waits in a queue for a broker that is away (relays resync from the store).
		disableOfflineQueue: true,
		socket: {
			connectTimeout: 3000,
			reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxBackoffMs),
		},
	});
}
type RedisClient = ReturnType<typeof newClient>;

const ENVELOPE_VERSION = 1;

/** version (1) · sentAt (float64 ms) · node id length (1) · node id · payload */
export function envelope(nodeId: string, sentAt: number, payload: Buffer): Buffer {
	const id = Buffer.from(nodeId, 'utf8');
	if (id.length > 255) throw new RangeError('node id longer than 255 bytes');
	const head = Buffer.allocUnsafe(10);
	head.writeUInt8(ENVELOPE_VERSION, 0);
	head.writeDoubleBE(sentAt, 1);
	head.writeUInt8(id.length, 9);
	return Buffer.concat([head, id, payload]);
}

export function openEnvelope(message: Buffer): {origin: PayloadOrigin; payload: Buffer} | undefined {
	if (message.length < 10 || message.readUInt8(0) !== ENVELOPE_VERSION) return undefined;
	const length = message.readUInt8(9);
	if (message.length < 10 + length) return undefined;
	return {
		origin: {sentAt: message.readDoubleBE(1), nodeId: message.subarray(10, 10 + length).toString('utf8')},
		payload: message.subarray(10 + length),
	};
}

export class RedisBroker implements BrokerChannel {
	readonly nodeId: string;
	private readonly prefix: string;
	private readonly publisher: RedisClient;
	private readonly subscriber: RedisClient;
	private readonly handlers = new Map<string, Set<Handler>>();
	/** The one Redis listener per channel, kept so a resubscribe after a reconnect reuses it. */
	private readonly raw = new Map<string, (message: Buffer) => void>();
	private readonly listeners = new Set<(up: boolean) => void>();
	private readonly log: Log;
	private readonly probeMs: number;
	private readonly onHop: ((seconds: number) => void) | undefined;
	private probeTimer: NodeJS.Timeout | undefined;
	private lastEcho = 0;
	private isUp = false;
	private closed = false;
	/** The last probe's round trip through the broker (ms), undefined before the first. */
	latencyMs: number | undefined;

	private constructor(options: RedisBrokerOptions) {
		this.nodeId = options.nodeId;
		this.prefix = options.prefix ?? 'parley:';
		this.log = options.log ?? (() => {});
		this.probeMs = options.probeMs ?? 1000;
		this.onHop = options.onHop;
		const maxBackoff = options.maxBackoffMs ?? 2000;
		const make = (role: string) => {
			const client = newClient(options.url, maxBackoff);
			let failing = false;
			client.on('error', (error: Error) => {
				if (failing) return; // one line per outage, not one per retry
				failing = true;
				this.log(`broker ${role} connection: ${error.message}`, {level: 'warn'});
			});
			client.on('ready', () => {
				failing = false;
				// Channels whose subscribe failed while the broker was away (node-redis redoes only the ones that went through).
				if (role === 'subscribe')
					for (const [name, listener] of this.raw) void this.subscribeRaw(name, listener);
				this.check();
			});
			client.on('end', () => this.check());
			client.on('reconnecting', () => this.check());
			return client;
		};
		this.publisher = make('publish');
		this.subscriber = make('subscribe');
	}

	/** Connects both clients (retrying with backoff until `give up`); resolves once the broker answers. */
	static async connect(options: RedisBrokerOptions): Promise<RedisBroker> {
		const broker = new RedisBroker(options);
		await Promise.all([broker.publisher.connect(), broker.subscriber.connect()]);
		await broker.subscribeRaw(broker.probeChannel(), (message) => broker.heard(message));
		broker.probe();
		broker.probeTimer = setInterval(() => broker.probe(), broker.probeMs);
		broker.probeTimer.unref();
		return broker;
	}

	get up(): boolean {
		return this.isUp;
	}

	publish(channel: string, payload: Buffer): void {
		if (this.closed || !this.publisher.isReady) return;
		this.publisher.publish(this.prefix + channel, envelope(this.nodeId, Date.now(), payload)).catch(() => {
			// Dropped: the broker went away meanwhile. Receivers fill gaps from the store.
		});
	}

	subscribe(channel: string, handler: (payload: Buffer, origin: PayloadOrigin) => void): () => void {
		const name = this.prefix + channel;
		let set = this.handlers.get(name);
		if (!set) {
			set = new Set();
			this.handlers.set(name, set);
			void this.subscribeRaw(name, (message) => {
				const opened = openEnvelope(message);
				if (!opened) return;
				this.onHop?.(Math.max(0, Date.now() - opened.origin.sentAt) / 1000);
				for (const handle of [...(this.handlers.get(name) ?? [])]) handle(opened.payload, opened.origin);
			});
		}
		set.add(handler);
		return () => {
			const current = this.handlers.get(name);
			if (!current?.delete(handler) || current.size > 0) return;
			this.handlers.delete(name);
			this.raw.delete(name);
			if (this.subscriber.isOpen) this.subscriber.unsubscribe(name).catch(() => {});
		};
	}

	onStatus(listener: (up: boolean) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		clearInterval(this.probeTimer);
		this.handlers.clear();
		this.listeners.clear();
		await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
	}

	private probeChannel(): string {
		return `${this.prefix}probe:${this.nodeId}`;
	}

	/** Subscribes now if connected; node-redis resubscribes by itself after a reconnect. */
	private async subscribeRaw(name: string, listener: (message: Buffer) => void): Promise<void> {
		this.raw.set(name, listener);
		if (!this.subscriber.isReady) return; // done on 'ready'
		try {
			await this.subscriber.subscribe(name, listener, true);
		} catch (error) {
			this.log(`broker subscribe to ${name} failed: ${(error as Error).message}`, {level: 'warn'});
		}
	}

	private probe(): void {
		if (this.closed) return;
		if (this.publisher.isReady)
			this.publisher
				.publish(this.probeChannel(), envelope(this.nodeId, Date.now(), Buffer.alloc(0)))
				.catch(() => {});
		this.check();
	}

	private heard(message: Buffer): void {
		const opened = openEnvelope(message);
		if (!opened) return;
		this.lastEcho = Date.now();
		this.latencyMs = Math.max(0, this.lastEcho - opened.origin.sentAt);
		this.check();
	}

	/** Up: both connected and our own probe heard lately. */
	private check(): void {
		if (this.closed) return;
		const up =
			this.publisher.isReady && this.subscriber.isReady && Date.now() - this.lastEcho <= 3 * this.probeMs;
		if (up === this.isUp) return;
		this.isUp = up;
		this.log(
			up ? 'broker is up' : 'broker is DOWN: serving local members, polling the database for the rest',
			{
				level: up ? 'info' : 'warn',
			},
		);
		for (const listener of [...this.listeners]) listener(up);
	}
}
