// This server as one node of a cluster: the rooms it has open, their journals
// (server/cluster/cluster-journal.ts), and what the nodes tell each other over
// the broker besides room events: who is in each room on each node (a full
// snapshot of a node's members on every change: small, and never out of step),
// direct messages for a member on another node, and heartbeats. A node that
// falls silent is dropped with its members, and one node (the lowest id of
// those that share the room) writes their leaving once. While the broker is
// away the node serves its own members and polls the database for the rest.

import {identityKey} from '../../source/protocol/names.js';
import type {Log} from '../log/log.js';
import type {ForwardedDirect, RemoteMember, Room, RoomPeers} from '../room/room.js';
import type {AccountStore, RoomSettings} from '../store/account-store.js';
import type {BrokerChannel, PayloadOrigin} from './broker-channel.js';
import {ClusterJournal, type ClusterCounters} from './cluster-journal.js';
import {type DirectPayload, directPayload, nodesHolding, readDirect} from './forwarded-direct.js';

export interface ClusterNodeOptions {
	store: AccountStore;
	broker: BrokerChannel;
	/** A gap waits this long for the broker before the database is read (ms, default 150). */
	gapMs?: number;
	/** While the broker is away, rooms with members here read the database this often (ms, default 500). */
	pollMs?: number;
	/** A node not heard from for this long is gone, its members with it (ms, default 3000). */
	nodeTimeoutMs?: number;
	log?: Log;
}

type MembersPayload =
	| {type: 'snapshot'; members: RemoteMember[]}
	| {type: 'request'}
	| {type: 'settings'; settings: RoomSettings};
/** An account invited to a room (its label): every node tells the account's sessions there. */
type InvitedPayload = {type: 'invited'; account: string; room: string; by: string};
type NodePayload =
	| DirectPayload
	| InvitedPayload
	| {type: 'alive'; heads?: Record<string, number>}
	| {type: 'bye'};

interface RoomEntry {
	key: string;
	journal: ClusterJournal;
	room: Room<unknown> | undefined;
	/** Node id → its members here (an empty list: the node has the room open, nobody in it). */
	remote: Map<string, RemoteMember[]>;
	snapshotDue: boolean;
	/** The committed seq the last heartbeat told. */
	announced: number;
	unsubscribe: () => void;
}

const membersChannel = (key: string): string => `members:${key}`;
const nodeChannel = (id: string): string => `node:${id}`;
const NODES = 'nodes';

export class ClusterNode {
	readonly counters: ClusterCounters = {eventsIn: 0, eventsOut: 0, gapFills: 0};
	private readonly rooms = new Map<string, RoomEntry>();
	/** Other nodes → when last heard. */
	private readonly seen = new Map<string, number>();
	private readonly store: AccountStore & Required<Pick<AccountStore, 'appendMessages'>>;
	private readonly broker: BrokerChannel;
	private readonly gapMs: number;
	private readonly pollMs: number;
	private readonly nodeTimeoutMs: number;
	private readonly log: Log;
	private readonly timers: NodeJS.Timeout[] = [];
	private readonly cleanups: Array<() => void> = [];
	private readonly goneListeners = new Set<(node: string) => void>();
	private readonly invitedListeners = new Set<(account: string, room: string, by: string) => void>();
	private closed = false;

	constructor(options: ClusterNodeOptions) {
		const {store} = options;
		if (!store.appendMessages)
			throw new Error('cluster mode needs the shared MySQL/MariaDB store (--db mysql://…)');
		this.store = store as ClusterNode['store'];
		this.broker = options.broker;
		this.gapMs = options.gapMs ?? 150;
		this.pollMs = options.pollMs ?? 500;
		this.nodeTimeoutMs = options.nodeTimeoutMs ?? 3000;
		this.log = options.log ?? (() => {});
		this.cleanups.push(
			this.broker.subscribe(NODES, (payload, origin) => this.heardNode(payload, origin)),
			this.broker.subscribe(nodeChannel(this.id), (payload, origin) => this.heardNode(payload, origin)),
			this.broker.onStatus((up) => (up ? this.brokerBack() : undefined)),
		);
		const heartbeat = setInterval(() => this.beat(), Math.max(50, Math.floor(this.nodeTimeoutMs / 3)));
		const poll = setInterval(() => this.pollWhileDown(), this.pollMs);
		for (const timer of [heartbeat, poll]) timer.unref();
		this.timers.push(heartbeat, poll);
		this.beat();
	}

	get id(): string {
		return this.broker.nodeId;
	}

	get brokerUp(): boolean {
		return this.broker.up;
	}

	/** Other nodes heard from lately. */
	get peers(): string[] {
		return [...this.seen.keys()];
	}

	/** Called with each node found gone (stopped, or silent too long): the UDP relay drops its members too. */
	onNodeGone(listener: (node: string) => void): () => void {
		this.goneListeners.add(listener);
		return () => this.goneListeners.delete(listener);
	}

	/** An invite made here: the other nodes tell the invitee's sessions they hold. */
	invited(account: string, room: string, by: string): void {
		this.broker.publish(NODES, payloadOf({type: 'invited', account, room, by} satisfies InvitedPayload));
	}

	/** Called with each invite made on another node. */
	onInvited(listener: (account: string, room: string, by: string) => void): () => void {
		this.invitedListeners.add(listener);
		return () => this.invitedListeners.delete(listener);
	}

	/** The room's journal (its events in global order), opened when the room is first used. */
	async openJournal(key: string): Promise<ClusterJournal> {
		const journal = await ClusterJournal.open({
			store: this.store,
			broker: this.broker,
			room: key,
			gapMs: this.gapMs,
			counters: this.counters,
			log: (line, fields) => this.log(line, {room: key, ...fields}),
		});
		const entry: RoomEntry = {
			key,
			journal,
			room: undefined,
			remote: new Map(),
			snapshotDue: false,
			announced: 0,
			unsubscribe: this.broker.subscribe(membersChannel(key), (payload, origin) =>
				this.heardMembers(entry, payload, origin),
			),
		};
		this.rooms.get(key)?.unsubscribe();
		this.rooms.set(key, entry);
		return journal;
	}

	/** What the room asks of the other nodes. */
	peersFor(key: string): RoomPeers {
		return {
			remoteMembers: () => {
				const entry = this.rooms.get(key);
				return entry ? [...entry.remote.values()].flat() : [];
			},
			localMembersChanged: () => {
				const entry = this.rooms.get(key);
				if (entry) this.snapshotSoon(entry);
			},
			forwardDirect: (message) => this.forwardDirect(key, message),
		};
	}

	/** The room is made: the node delivers to it and announces its members (none yet) and asks for the others'. */
	bind(key: string, room: Room<unknown>): void {
		const entry = this.rooms.get(key);
		if (!entry) return;
		entry.room = room;
		this.snapshotSoon(entry);
		this.publishMembers(entry, {type: 'request'});
	}

	/** The room's settings changed here (moderation): the other nodes' copies follow. */
	settingsChanged(key: string, settings: RoomSettings): void {
		const entry = this.rooms.get(key);
		if (entry) this.publishMembers(entry, {type: 'settings', settings});
	}

	/** A clean stop: the others drop this node's members at once. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.broker.publish(NODES, payloadOf({type: 'bye'}));
		for (const timer of this.timers) clearInterval(timer);
		for (const cleanup of this.cleanups) cleanup();
		for (const entry of this.rooms.values()) {
			entry.unsubscribe();
			entry.journal.close();
		}
		this.rooms.clear();
	}

	private forwardDirect(key: string, message: ForwardedDirect): void {
		const entry = this.rooms.get(key);
		if (!entry) return;
		for (const node of nodesHolding(entry.remote, message))
			this.broker.publish(nodeChannel(node), payloadOf(directPayload(key, message)));
	}

	private snapshotSoon(entry: RoomEntry): void {
		if (entry.snapshotDue || this.closed) return;
		entry.snapshotDue = true;
		// Once per turn, however many joined in it.
		setImmediate(() => {
			entry.snapshotDue = false;
			if (!entry.room || this.rooms.get(entry.key) !== entry) return;
			this.publishMembers(entry, {type: 'snapshot', members: entry.room.localMembers()});
		});
	}

	private publishMembers(entry: RoomEntry, payload: MembersPayload): void {
		this.broker.publish(membersChannel(entry.key), payloadOf(payload));
	}

	private heardMembers(entry: RoomEntry, payload: Buffer, origin: PayloadOrigin): void {
		if (origin.nodeId === this.id) return;
		const parsed = parse<MembersPayload>(payload);
		if (!parsed) return;
		this.saw(origin.nodeId);
		if (parsed.type === 'request') {
			this.snapshotSoon(entry);
			return;
		}
		if (parsed.type === 'settings') {
			if (typeof parsed.settings === 'object' && parsed.settings !== null)
				entry.room?.adoptSettings(parsed.settings);
			return;
		}
		if (parsed.type !== 'snapshot' || !Array.isArray(parsed.members)) return;
		const members = parsed.members.filter((member) => typeof member?.nick === 'string');
		const before = new Map((entry.remote.get(origin.nodeId) ?? []).map((m) => [identityKey(m.nick), m]));
		entry.remote.set(origin.nodeId, members);
		for (const member of members) {
			const earlier = before.get(identityKey(member.nick));
			if (earlier && earlier.away !== member.away) entry.room?.remoteAway(member.nick, member.away);
		}
	}

	private heardNode(payload: Buffer, origin: PayloadOrigin): void {
		if (origin.nodeId === this.id) return;
		const parsed = parse<NodePayload>(payload);
		if (!parsed) return;
		if (parsed.type === 'bye') {
			this.gone(origin.nodeId, 'its server stopped');
			return;
		}
		const newcomer = !this.seen.has(origin.nodeId);
		this.saw(origin.nodeId);
		if (newcomer) for (const entry of this.rooms.values()) this.snapshotSoon(entry);
		if (parsed.type === 'alive' && typeof parsed.heads === 'object' && parsed.heads !== null) {
			// A publish lost on the way (a broker hiccup) shows up here within a heartbeat.
			for (const [key, seq] of Object.entries(parsed.heads))
				if (Number.isSafeInteger(seq)) this.rooms.get(key)?.journal.heardOf(seq);
		}
		if (
			parsed.type === 'invited' &&
			typeof parsed.account === 'string' &&
			typeof parsed.room === 'string' &&
			typeof parsed.by === 'string'
		)
			for (const listener of this.invitedListeners) listener(parsed.account, parsed.room, parsed.by);
		if (parsed.type === 'dm') {
			const dm = readDirect(parsed);
			if (dm) this.rooms.get(dm.room)?.room?.acceptDirect(dm.direct);
		}
	}

	private saw(node: string): void {
		this.seen.set(node, Date.now());
	}

	/** Heartbeat out; nodes silent too long are gone (only while the broker works: an outage silences everyone). */
	private beat(): void {
		if (this.closed) return;
		// With the rooms this node wrote to since the last beat, and how far.
		const heads: Record<string, number> = {};
		for (const entry of this.rooms.values()) {
			const committed = entry.journal.committedSeq;
			if (committed <= entry.announced) continue;
			heads[entry.key] = committed;
			if (this.broker.up) entry.announced = committed;
		}
		this.broker.publish(NODES, payloadOf({type: 'alive', ...(Object.keys(heads).length > 0 ? {heads} : {})}));
		if (!this.broker.up) return;
		const now = Date.now();
		for (const [node, last] of this.seen)
			if (now - last > this.nodeTimeoutMs) this.gone(node, 'its server stopped answering');
	}

	/**
	 * Drops a node and its members. Their leaving is written once: by the lowest
	 * node id among the live nodes that have the room open.
	 */
	private gone(node: string, reason: string): void {
		if (!this.seen.delete(node)) return;
		this.log(`node ${node} is gone (${reason}); dropping its members`, {level: 'warn'});
		for (const listener of this.goneListeners) listener(node);
		for (const entry of this.rooms.values()) {
			const members = entry.remote.get(node);
			entry.remote.delete(node);
			if (!members || members.length === 0 || !entry.room) continue;
			const holders = [this.id, ...[...entry.remote.keys()].filter((other) => this.seen.has(other))];
			if (holders.sort()[0] !== this.id) continue;
			for (const member of members) entry.room.announceRemoteLeave(member.nick, 'server lost');
		}
	}

	/** The broker is back: everyone is heard anew, the rooms catch up from the database and say who is here. */
	private brokerBack(): void {
		if (this.closed) return;
		const now = Date.now();
		for (const node of this.seen.keys()) this.seen.set(node, now);
		this.beat();
		const resyncs = [...this.rooms.values()].map((entry) => {
			entry.journal.announceHead();
			this.snapshotSoon(entry);
			this.publishMembers(entry, {type: 'request'});
			return entry.journal.catchUp();
		});
		if (resyncs.length === 0) return;
		void Promise.all(resyncs).then(() =>
			this.log(`resync done: ${resyncs.length} rooms caught up from the database`),
		);
	}

	/** Broker away: cross-node events still arrive, from the database. */
	private pollWhileDown(): void {
		if (this.closed || this.broker.up) return;
		for (const entry of this.rooms.values())
			if (entry.room && entry.room.size > 0) void entry.journal.catchUp();
	}
}

function payloadOf(value: unknown): Buffer {
	return Buffer.from(JSON.stringify(value));
}

function parse<T>(payload: Buffer): T | undefined {
	try {
		const value = JSON.parse(payload.toString('utf8')) as unknown;
		return typeof value === 'object' && value !== null ? (value as T) : undefined;
	} catch {
		return undefined;
	}
}
