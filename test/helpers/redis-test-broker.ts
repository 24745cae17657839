// TEST ONLY: a minimal BrokerChannel over the real Redis (node-redis pub/sub),
// standing in for server/cluster/redis-broker.ts in tests of the relays. Every
// channel gets the run's prefix, so runs never hear each other. Up means both
// connections are ready and this node has heard its own probe through Redis
// since (so the subscriptions are live again after an outage).
import {randomBytes} from 'node:crypto';
import {createClient} from 'redis';
import type {BrokerChannel} from '../../server/cluster/broker-channel.js';

type Client = ReturnType<typeof createClient>;

export class RedisTestBroker implements BrokerChannel {
	private readonly listeners = new Set<(up: boolean) => void>();
	private isUp = false;
	private probing: NodeJS.Timeout | undefined;
	private closed = false;
	private readonly probeToken = randomBytes(6).toString('hex');

	private constructor(
		readonly nodeId: string,
		private readonly prefix: string,
		private readonly publisher: Client,
		private readonly subscriber: Client,
	) {
		for (const client of [publisher, subscriber]) {
			client.on('error', () => this.set(false));
			client.on('end', () => this.set(false));
			client.on('reconnecting', () => this.set(false));
			client.on('ready', () => this.probe());
		}
	}

	/** A broker on `url` for node `nodeId`, every channel under `prefix` (one per test run). */
	static async connect(url: string, nodeId: string, prefix: string): Promise<RedisTestBroker> {
		const options = {
			url,
			disableOfflineQueue: true,
			socket: {connectTimeout: 2000, reconnectStrategy: () => 100},
		};
		const broker = new RedisTestBroker(nodeId, prefix, createClient(options), createClient(options));
		await Promise.all([broker.publisher.connect(), broker.subscriber.connect()]);
		await broker.subscriber.subscribe(broker.probeChannel(), (message) => {
			if (message === broker.probeToken) broker.set(true);
		});
		broker.probe();
		await new Promise<void>((resolve) => {
			const stop = broker.onStatus((up) => {
				if (!up) return;
				stop();
				resolve();
			});
		});
		return broker;
	}

	get up(): boolean {
		return this.isUp;
	}

	publish(channel: string, payload: Buffer): void {
		if (!this.publisher.isReady) return;
		this.publisher.publish(this.prefix + channel, payload).catch(() => {});
	}

	subscribe(channel: string, handler: (payload: Buffer) => void): () => void {
		const name = this.prefix + channel;
		const listener = (message: Buffer) => handler(message);
		void this.subscriber.subscribe(name, listener, true).catch(() => {});
		return () => {
			if (this.subscriber.isOpen) void this.subscriber.unsubscribe(name, listener, true).catch(() => {});
		};
	}

	onStatus(listener: (up: boolean) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	async close(): Promise<void> {
		this.closed = true;
		clearInterval(this.probing);
		this.listeners.clear();
		await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
	}

	private probeChannel(): string {
		return `${this.prefix}probe:${this.nodeId}`;
	}

	/** Publishes the probe until it is heard back (then up). */
	private probe(): void {
		if (this.closed || this.probing) return;
		const send = () => {
			if (this.publisher.isReady)
				this.publisher.publish(this.probeChannel(), this.probeToken).catch(() => {});
		};
		send();
		this.probing = setInterval(send, 100);
	}

	private set(up: boolean): void {
		if (up) {
			clearInterval(this.probing);
			this.probing = undefined;
		} else if (!this.closed) this.probe();
		if (up === this.isUp || this.closed) return;
		this.isUp = up;
		for (const listener of [...this.listeners]) listener(up);
	}
}
