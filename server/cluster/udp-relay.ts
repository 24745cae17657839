// UDP rooms across nodes. Each node's UDP room stays its own: its own
// sequence numbers, history ring and repair (UDP rooms keep no durable log).
// What a room tells its members that happened here (messages, joins, leaves,
// nick and away changes) is also published on the broker channel `udp:<room
// key>` (`parley:udp:<room key>` in Redis, the broker adding its prefix); what
// other nodes publish there is numbered here, in this room's own sequence, and
// delivered to the members here. Nodes also swap who is present on each (a
// roster, sent on every change of its members), so the room here lists the
// members of the others (welcome, `who`), refuses their nicks, and forwards
// direct messages for them to their node (channel `udp-node:<node id>`). A
// roster that shows someone the events did not (a room just opened here, the
// broker back after an outage, a node gone) is told here as a join or leave.
// While the broker is away each node serves its own members and tells them
// so; when it is back they hear each other again (what was said meanwhile on
// the other side is not replayed: nothing keeps it).

import * as v from 'valibot';
import {
	MemberInfoSchema,
	type MemberInfo,
	type RoomEventMessage,
	RoomEventSchema,
	type UnsequencedRoomEvent,
} from '../../source/protocol/messages.js';
import {identityKey} from '../../source/protocol/names.js';
import type {Log} from '../log/log.js';
import type {ForwardedDirect, Room, RoomPeers} from '../room/room.js';
import type {BrokerChannel} from './broker-channel.js';
import {directPayload, nodesHolding, readDirect} from './forwarded-direct.js';

/** What a UDP room server asks of its relay (startUdpRoomServer's `relay` option). */
export interface UdpRoomRelay {
	/** What a room of this key asks of the other nodes (given to the room when it is made). */
	peersFor(key: string): RoomPeers;
	/** A room came into being on this node: from now on it hears the other nodes' events. */
	opened(key: string, room: Room<unknown>): void;
	/** Something the room told its members that happened here (its onEvent): for the other nodes. */
	sent(key: string, event: RoomEventMessage): void;
	/** The room is gone from this node (emptied). */
	closed(key: string): void;
	/** The server is closing: stop hearing the broker. */
	close(): void;
}

export interface UdpRelayOptions {
	log?: Log;
	/** How often each room's roster is told again (ms, default 5000): a roster lost in a reconnect is made good. */
	rosterEveryMs?: number;
}

export const DOWN_NOTICE =
	'this server cannot reach the other servers of this room: only members on this server hear you until they are back';
export const UP_NOTICE =
	'linked with the other servers of this room again (what was said on them meanwhile is not shown here)';

const MAX_ROSTER = 10_000;

/** What travels on a room's channel: an event, or a node's roster (with `ask`: answer with yours). */
const WireSchema = v.object({
	v: v.literal(1),
	n: v.pipe(v.string(), v.maxLength(255)),
	e: v.optional(v.unknown()),
	roster: v.optional(v.pipe(v.array(MemberInfoSchema), v.maxLength(MAX_ROSTER))),
	ask: v.optional(v.boolean()),
});
type Wire = v.InferOutput<typeof WireSchema>;

interface RelayedRoom {
	room: Room<unknown>;
	unsubscribe: () => void;
	/** Node id → its members (nick key → nick and away), as its roster and events told (none: a node not heard yet, or gone). */
	remote: Map<string, Map<string, MemberInfo>>;
	rosterDue: boolean;
}

export class UdpRelay implements UdpRoomRelay {
	private readonly rooms = new Map<string, RelayedRoom>();
	private readonly log: Log;
	private readonly cleanups: Array<() => void>;
	private wasDown = false;

	constructor(
		private readonly broker: BrokerChannel,
		options: UdpRelayOptions = {},
	) {
		this.log = options.log ?? (() => {});
		// Pub/sub keeps nothing: a roster published while the other side was still resubscribing is lost.
		const refresh = setInterval(() => {
			if (this.broker.up) for (const key of this.rooms.keys()) this.announce(key, false);
		}, options.rosterEveryMs ?? 5000);
		refresh.unref();
		this.cleanups = [
			broker.onStatus((up) => this.status(up)),
			broker.subscribe(nodeChannelOf(broker.nodeId), (payload) => this.heardDirect(payload)),
			() => clearInterval(refresh),
		];
	}

	peersFor(key: string): RoomPeers {
		return {
			remoteMembers: () => this.remoteMembers(key).map(({nick, away}) => ({nick, away})),
			localMembersChanged: () => this.rosterSoon(key),
			forwardDirect: (message) => this.forwardDirect(key, message),
		};
	}

	opened(key: string, room: Room<unknown>): void {
		this.closed(key);
		const entry: RelayedRoom = {
			room,
			remote: new Map(),
			rosterDue: false,
			unsubscribe: this.broker.subscribe(channelOf(key), (payload) => this.heard(key, payload)),
		};
		this.rooms.set(key, entry);
		this.announce(key, true);
	}

	sent(key: string, event: RoomEventMessage): void {
		if (!this.rooms.has(key)) return;
		// The number is this node's; the sender's ref is its acknowledgement, no one else's.
		const {seq: _seq, room: _room, ...rest} = event;
		const unsequenced = (rest.t === 'msg' ? withoutRef(rest) : rest) as UnsequencedRoomEvent;
		this.publish(key, {v: 1, n: this.broker.nodeId, e: unsequenced});
	}

	closed(key: string): void {
		const entry = this.rooms.get(key);
		if (!entry) return;
		this.rooms.delete(key);
		entry.unsubscribe();
		this.publish(key, {v: 1, n: this.broker.nodeId, roster: []}); // nobody here any more
	}

	close(): void {
		for (const key of [...this.rooms.keys()]) this.closed(key);
		for (const cleanup of this.cleanups) cleanup();
	}

	/** A node stopped or fell silent (the cluster node's heartbeats tell): its members leave every room here. */
	nodeGone(node: string): void {
		for (const entry of this.rooms.values()) this.reconcile(entry, node, new Map(), 'server lost');
	}

	/** Members of the room on other nodes, one per nick (the room's peers, and tests). */
	remoteMembers(key: string): MemberInfo[] {
		const seen = new Map<string, MemberInfo>();
		for (const members of this.rooms.get(key)?.remote.values() ?? [])
			for (const [nickKey, member] of members) if (!seen.has(nickKey)) seen.set(nickKey, member);
		return [...seen.values()];
	}

	private publish(key: string, wire: Wire): void {
		if (this.broker.up) this.broker.publish(channelOf(key), Buffer.from(JSON.stringify(wire)));
	}

	/** Tells the other nodes who is here; `ask`: and asks for theirs. */
	private announce(key: string, ask: boolean): void {
		const entry = this.rooms.get(key);
		if (!entry) return;
		const roster = entry.room.localMembers().map(({nick, away}) => ({nick, ...(away ? {away} : {})}));
		this.publish(key, {v: 1, n: this.broker.nodeId, roster, ...(ask ? {ask: true} : {})});
	}

	/** The roster after this turn's changes (once, however many joined in it), behind their events. */
	private rosterSoon(key: string): void {
		const entry = this.rooms.get(key);
		if (!entry || entry.rosterDue) return;
		entry.rosterDue = true;
		setImmediate(() => {
			entry.rosterDue = false;
			if (this.rooms.get(key) === entry) this.announce(key, false);
		});
	}

	/** To the nodes where the recipient (or the sender) is: delivered there with that node's dseq. */
	private forwardDirect(key: string, message: ForwardedDirect): void {
		const entry = this.rooms.get(key);
		if (!entry || !this.broker.up) return;
		const rosters = [...entry.remote].map(([node, members]) => [node, members.values()] as const);
		const payload = Buffer.from(JSON.stringify(directPayload(key, message)));
		for (const node of nodesHolding(rosters, message)) this.broker.publish(nodeChannelOf(node), payload);
	}

	private heardDirect(payload: Buffer): void {
		let dm: ReturnType<typeof readDirect>;
		try {
			dm = readDirect(JSON.parse(payload.toString('utf8')));
		} catch {
			dm = undefined;
		}
		if (!dm) {
			this.log('udp relay: dropped a bad direct message', {level: 'warn'});
			return;
		}
		this.rooms.get(dm.room)?.room.acceptDirect(dm.direct);
	}

	private heard(key: string, payload: Buffer): void {
		const entry = this.rooms.get(key);
		if (!entry) return;
		let wire: Wire;
		try {
			const parsed = v.safeParse(WireSchema, JSON.parse(payload.toString('utf8')));
			if (!parsed.success) throw new Error(parsed.issues[0]?.message ?? 'malformed');
			wire = parsed.output;
		} catch (error) {
			this.log(`udp relay: dropped a bad payload for ${key}: ${(error as Error).message}`, {level: 'warn'});
			return;
		}
		if (wire.n === this.broker.nodeId) return; // our own, back from the broker
		if (wire.roster) {
			this.reconcile(entry, wire.n, new Map(wire.roster.map((m) => [identityKey(m.nick), m] as const)));
			if (wire.ask) this.announce(key, false);
		}
		if (wire.e !== undefined) this.relay(entry, wire.n, wire.e, key);
	}

	/** Another node's event: checked as any room event, numbered and delivered here. */
	private relay(entry: RelayedRoom, node: string, raw: unknown, key: string): void {
		const parsed = v.safeParse(RoomEventSchema, {...(raw as object), seq: 0});
		if (!parsed.success) {
			this.log(`udp relay: dropped a bad event for ${key} from ${node}`, {level: 'warn'});
			return;
		}
		const {seq: _seq, room: _room, ...event} = parsed.output;
		// A node this room knows no roster of (taken for gone, then heard again): who is there?
		if (!entry.remote.has(node)) this.announce(key, true);
		this.track(entry, node, event as UnsequencedRoomEvent);
		entry.room.relayed(event as UnsequencedRoomEvent);
	}

	/**
	 * A node's members are now `members`. Whoever the events had not told the
	 * members here about (the roster answering a room just opened, or the first
	 * after an outage; a node gone) joins or leaves here, unless present here
	 * or on a third node all along.
	 */
	private reconcile(entry: RelayedRoom, node: string, members: Map<string, MemberInfo>, gone?: string): void {
		const before = entry.remote.get(node) ?? new Map<string, MemberInfo>();
		// A gone node is forgotten: when it is heard again, it is asked who is there.
		if (gone === undefined) entry.remote.set(node, members);
		else entry.remote.delete(node);
		if (entry.room.size === 0) return; // nobody here to tell
		const elsewhere = (nickKey: string, nick: string) =>
			entry.room.findMember(nick) !== undefined ||
			[...entry.remote].some(([other, theirs]) => other !== node && theirs.has(nickKey));
		const ts = Date.now();
		for (const [nickKey, member] of before)
			if (!members.has(nickKey) && !elsewhere(nickKey, member.nick))
				entry.room.relayed({
					t: 'presence',
					ts,
					kind: 'leave',
					nick: member.nick,
					...(gone ? {reason: gone} : {}),
				});
		for (const [nickKey, member] of members)
			if (!before.has(nickKey) && !elsewhere(nickKey, member.nick))
				entry.room.relayed({t: 'presence', ts, kind: 'join', nick: member.nick});
	}

	/** Keeps the other node's roster current from its presence events. */
	private track(entry: RelayedRoom, node: string, event: UnsequencedRoomEvent): void {
		if (event.t !== 'presence') return;
		let members = entry.remote.get(node);
		if (!members) {
			members = new Map();
			entry.remote.set(node, members);
		}
		const key = identityKey(event.nick);
		if (event.kind === 'join' && members.size < MAX_ROSTER) members.set(key, {nick: event.nick});
		else if (event.kind === 'nick' && event.old !== undefined) {
			const old = members.get(identityKey(event.old));
			members.delete(identityKey(event.old));
			members.set(key, {...old, nick: event.nick});
		} else if (event.kind === 'away') {
			const member = members.get(key);
			if (member) members.set(key, {nick: member.nick, ...(event.reason ? {away: event.reason} : {})});
		} else if (['leave', 'part', 'expire', 'kick', 'ban'].includes(event.kind)) members.delete(key);
	}

	private status(up: boolean): void {
		// The first "up" after starting is no news: nothing was ever cut off.
		const news = !up || this.wasDown;
		if (!up) this.wasDown = true;
		if (news)
			this.log(up ? 'udp relay: broker back, rooms linked again' : 'udp relay: broker DOWN, rooms local', {
				level: up ? 'info' : 'warn',
			});
		for (const [key, entry] of this.rooms) {
			if (news) entry.room.notify(up ? UP_NOTICE : DOWN_NOTICE);
			// The others' rosters are whatever they are now: asked again.
			if (up) this.announce(key, true);
		}
	}
}

function channelOf(key: string): string {
	return `udp:${key}`;
}

/** Where a node hears direct messages for its UDP members. */
function nodeChannelOf(node: string): string {
	return `udp-node:${node}`;
}

function withoutRef<T extends {ref?: string}>(message: T): Omit<T, 'ref'> {
	const {ref: _ref, ...rest} = message;
	return rest;
}
