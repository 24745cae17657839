// The server's Prometheus metrics (prom-client, one registry per server).
// Most figures are read from the servers when scraped (gauges of what is open
// now, counters the transports already keep in their stats), so the hot paths
// only bump plain numbers; the store's latency is timed around every call.
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client';
import type {AccountStore} from '../store/account-store.js';

type Transport = 'tcp' | 'udp';

/** What the metrics read from one transport when scraped. */
export interface TransportFigures {
	/** TCP: open sockets; UDP: client sockets (address and port) in rooms. */
	connections: number;
	rooms: number;
	/** Room members, summed over the rooms (one per account in a TCP room). */
	members: number;
	/** TCP: logged-in connections in rooms; UDP: memberships. */
	sessions: number;
	messagesIn: number;
	messagesOut: number;
}

export interface WatchedServers {
	tcp(): TransportFigures & {
		overflows: number;
		failedLogins: number;
		accepted: number;
		refused: number;
		violations: number;
		pendingWrites: number;
		journalCommits: number;
		journalAppends: number;
		journalFailedCommits: number;
	};
	udp(): TransportFigures & {dropped: Readonly<Record<string, number>>};
	/** Cluster mode only. */
	cluster?(): ClusterFigures;
}

export interface ClusterFigures {
	brokerUp: boolean;
	/** Other nodes heard from lately. */
	peers: number;
	eventsIn: number;
	eventsOut: number;
	gapFills: number;
}

const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics {
	readonly registry = new Registry();
	private servers: WatchedServers | undefined;
	private readonly storeSeconds: Histogram<'operation' | 'outcome'>;
	private readonly brokerHop: Histogram;

	constructor() {
		collectDefaultMetrics({register: this.registry});
		const registers = [this.registry];
		const metrics = this;
		const perTransport = (name: string, help: string, read: (figures: TransportFigures) => number) =>
			new Gauge({
				name,
				help,
				labelNames: ['transport'],
				registers,
				collect() {
					for (const transport of ['tcp', 'udp'] as const) {
						const figures = metrics.figures(transport);
						if (figures) this.set({transport}, read(figures));
					}
				},
			});
		perTransport(
			'parley_connections_open',
			'Open connections (UDP: client sockets in rooms)',
			(f) => f.connections,
		);
		perTransport('parley_rooms_open', 'Rooms open now', (f) => f.rooms);
		perTransport('parley_members', 'Members in all rooms (one per account in a TCP room)', (f) => f.members);
		perTransport(
			'parley_sessions',
			'Sessions: TCP logged-in connections in rooms, UDP memberships',
			(f) => f.sessions,
		);
		const totalPerTransport = (name: string, help: string, read: (figures: TransportFigures) => number) =>
			new Counter({
				name,
				help,
				labelNames: ['transport'],
				registers,
				collect() {
					this.reset();
					for (const transport of ['tcp', 'udp'] as const) {
						const figures = metrics.figures(transport);
						if (figures) this.inc({transport}, read(figures));
					}
				},
			});
		totalPerTransport(
			'parley_messages_received_total',
			'Protocol messages received from clients',
			(f) => f.messagesIn,
		);
		totalPerTransport(
			'parley_messages_sent_total',
			'Protocol messages sent to clients',
			(f) => f.messagesOut,
		);
		const tcpTotal = (name: string, help: string, read: (tcp: ReturnType<WatchedServers['tcp']>) => number) =>
			new Counter({
				name,
				help,
				registers,
				collect() {
					this.reset();
					if (metrics.servers) this.inc(read(metrics.servers.tcp()));
				},
			});
		tcpTotal(
			'parley_send_queue_overflows_total',
			'TCP connections cut off as too slow: their send queue overflowed',
			(tcp) => tcp.overflows,
		);
		tcpTotal(
			'parley_auth_failures_total',
			'Failed TCP logins (password or token)',
			(tcp) => tcp.failedLogins,
		);
		tcpTotal('parley_tcp_connections_accepted_total', 'TCP connections admitted', (tcp) => tcp.accepted);
		tcpTotal(
			'parley_tcp_connections_refused_total',
			'TCP connections refused at accept (limits)',
			(tcp) => tcp.refused,
		);
		tcpTotal('parley_protocol_violations_total', 'TCP protocol violations', (tcp) => tcp.violations);
		// Appends over commits is the group size: how many messages share one fsync.
		tcpTotal(
			'parley_journal_commits_total',
			'Group commits of the local journal (one fsync each)',
			(tcp) => tcp.journalCommits,
		);
		tcpTotal(
			'parley_journal_appends_total',
			'Messages and presence events written to the local journal',
			(tcp) => tcp.journalAppends,
		);
		tcpTotal(
			'parley_journal_failed_commits_total',
			'Local journal commits that failed (their messages were refused, not acknowledged)',
			(tcp) => tcp.journalFailedCommits,
		);
		new Counter({
			name: 'parley_udp_datagrams_dropped_total',
			help: 'UDP datagrams dropped, by reason',
			labelNames: ['reason'],
			registers,
			collect() {
				this.reset();
				for (const [reason, count] of Object.entries(metrics.servers?.udp().dropped ?? {}))
					this.inc({reason}, count);
			},
		});
		new Gauge({
			name: 'parley_store_pending_writes',
			help: 'Messages acknowledged (in the local journal) but not yet in the database',
			registers,
			collect() {
				if (metrics.servers) this.set(metrics.servers.tcp().pendingWrites);
			},
		});
		const clusterFigure = (read: (figures: ClusterFigures) => number) =>
			function (this: Gauge | Counter) {
				const figures = metrics.servers?.cluster?.();
				if (!figures) return;
				if (this instanceof Counter) {
					this.reset();
					this.inc(read(figures));
				} else this.set(read(figures));
			};
		new Gauge({
			name: 'parley_broker_up',
			help: 'Cluster mode: 1 while the broker (Redis) is reachable and echoes this node, else 0',
			registers,
			collect: clusterFigure((f) => (f.brokerUp ? 1 : 0)),
		});
		new Gauge({
			name: 'parley_cluster_peers',
			help: 'Cluster mode: other nodes heard from lately',
			registers,
			collect: clusterFigure((f) => f.peers),
		});
		new Counter({
			name: 'parley_cluster_events_in_total',
			help: 'Cluster mode: room events received from other nodes over the broker',
			registers,
			collect: clusterFigure((f) => f.eventsIn),
		});
		new Counter({
			name: 'parley_cluster_events_out_total',
			help: 'Cluster mode: room events this node published to the broker',
			registers,
			collect: clusterFigure((f) => f.eventsOut),
		});
		new Counter({
			name: 'parley_cluster_gap_fills_total',
			help: 'Cluster mode: room events read from the database because the broker did not bring them in time',
			registers,
			collect: clusterFigure((f) => f.gapFills),
		});
		this.brokerHop = new Histogram({
			name: 'parley_broker_hop_seconds',
			help: 'Cluster mode: broker payloads from publish on one node to receipt on this one (by their send time)',
			buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
			registers,
		});
		this.storeSeconds = new Histogram({
			name: 'parley_store_seconds',
			help: 'Account store (database) calls: how long they took, by operation and outcome',
			labelNames: ['operation', 'outcome'],
			buckets: STORE_BUCKETS,
			registers,
		});
	}

	observeBrokerHop(seconds: number): void {
		this.brokerHop.observe(seconds);
	}

	/** Starts reading the servers' figures at each scrape. */
	watch(servers: WatchedServers): void {
		this.servers = servers;
	}

	/** The store, with every call timed into parley_store_seconds. */
	timeStore(store: AccountStore): AccountStore {
		const histogram = this.storeSeconds;
		return new Proxy(store, {
			get(target, property) {
				const value = Reflect.get(target, property) as unknown;
				if (typeof value !== 'function') return value;
				// Called on the store itself: its methods may use private fields, which a proxy lacks.
				if (typeof property !== 'string' || property === 'close') return value.bind(target);
				return (...args: unknown[]) => {
					const start = process.hrtime.bigint();
					const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
					const result = (value as (...a: unknown[]) => unknown).apply(target, args);
					if (!(result instanceof Promise)) return result;
					return result.then(
						(answer) => {
							histogram.observe({operation: property, outcome: 'ok'}, seconds());
							return answer;
						},
						(error: unknown) => {
							histogram.observe({operation: property, outcome: 'error'}, seconds());
							throw error;
						},
					);
				};
			},
		});
	}

	private figures(transport: Transport): TransportFigures | undefined {
		return this.servers?.[transport]();
	}
}
