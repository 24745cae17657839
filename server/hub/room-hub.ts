// The many-rooms registry of one transport: which rooms exist and who may
// open them. It knows no sockets: the transport gives it a factory for rooms
// (with their output) and a way to reach a session's link (invites). A TCP
// hub keeps rooms, memberships and read markers in the account store and
// loads a room (its settings and journal) on first use; a UDP hub (no store)
// makes rooms when joined and forgets them when they empty.

import {ProtocolError, type ServerMessage} from '../../source/protocol/messages.js';
import {identityKey, roomKey, roomLabel, roomNameProblem} from '../../source/protocol/names.js';
import type {Log} from '../log/log.js';
import type {JoinOptions, Member, Room, RoomJournal, RoomOptions} from '../room/room.js';
import {
	type AccountStore,
	RoomExistsError,
	type RoomSettings,
	type StoredRoom,
	emptyRoomSettings,
} from '../store/account-store.js';

/** Who is asking: a TCP account (with its admin flag, fetched at login), or nobody in particular (UDP). */
export interface HubIdentity {
	account?: string;
	admin?: boolean;
}

/** A journal the hub opened for a room and closes with it. */
export interface HubJournal extends RoomJournal {
	close(): void;
}

/** What the hub decides of a room's options: a stored (TCP) room's journal, settings and hooks. */
export type HubRoomOptions = Pick<
	RoomOptions<unknown>,
	'journal' | 'moderation' | 'settings' | 'onSettingsChange' | 'onInvite' | 'onRead' | 'onPart'
>;

/** What the hub passes to the room factory; the factory adds the transport's output and limits. */
export interface HubRoomSpec {
	/** As created, without the `#`. */
	name: string;
	key: string;
	/** `#Name`: what the room's output stamps on every message. */
	label: string;
	options: HubRoomOptions;
}

export interface RoomHubOptions<Link> {
	/** The room without a name (`--room`, default lobby); it always exists. */
	defaultRoom?: string;
	/** TCP: rooms, memberships and read markers persist here. Absent: rooms are ephemeral (UDP). */
	store?: AccountStore;
	/** TCP: the room's journal, opened when the room is first used. */
	openJournal?: (key: string) => Promise<HubJournal>;
	/** Makes the Room for a spec, with the transport's output and limits. */
	createRoom: (spec: HubRoomSpec) => Room<Link>;
	/** Who may bring a new room into being (TCP; default any). */
	roomCreation?: 'any' | 'admin';
	/** Rooms on the server (default 10,000). */
	maxRooms?: number;
	/** Rooms one account may be in (default 100; admins are not limited). */
	maxRoomsPerUser?: number;
	/** Sessions (TCP connections) one account may hold at once (default 10). */
	maxSessionsPerAccount?: number;
	/**
	 * Other servers make rooms and change their settings too (cluster): `list`
	 * reads the stored rooms anew (what this hub knows while the store is away).
	 */
	sharedRooms?: boolean;
	/** Delivers a message outside any room (invites) to a session. */
	notify?: (link: Link, message: ServerMessage) => void;
	/** An invite made here (after this hub told the account's sessions): the cluster tells those on other nodes. */
	onInvite?: (account: string, label: string, by: string) => void;
	log?: Log;
}

export interface RoomListing {
	name: string;
	members: number;
	topic?: string;
	private?: boolean;
}

interface Entry<Link> {
	room: Room<Link>;
	label: string;
	journal: HubJournal | undefined;
}

export const DEFAULT_MAX_ROOMS = 10_000;
export const DEFAULT_MAX_ROOMS_PER_USER = 100;
export const DEFAULT_MAX_SESSIONS_PER_ACCOUNT = 10;

export class RoomHub<Link> {
	readonly defaultKey: string;
	private readonly defaultName: string;
	private readonly store: AccountStore | undefined;
	private readonly rooms = new Map<string, Entry<Link>>();
	private readonly loading = new Map<string, Promise<Entry<Link>>>();
	/** TCP: every stored room by key (small: names and settings), kept current by this hub. */
	private readonly known = new Map<string, StoredRoom>();
	/** Sessions by account key. */
	private readonly sessions = new Map<string, Set<Link>>();
	private readonly maxRooms: number;
	private readonly maxRoomsPerUser: number;
	private readonly maxSessionsPerAccount: number;
	private readonly log: Log;

	private constructor(private readonly options: RoomHubOptions<Link>) {
		this.defaultName = bare(options.defaultRoom ?? 'lobby');
		this.defaultKey = roomKey(this.defaultName);
		this.store = options.store;
		this.maxRooms = options.maxRooms ?? DEFAULT_MAX_ROOMS;
		this.maxRoomsPerUser = options.maxRoomsPerUser ?? DEFAULT_MAX_ROOMS_PER_USER;
		this.maxSessionsPerAccount = options.maxSessionsPerAccount ?? DEFAULT_MAX_SESSIONS_PER_ACCOUNT;
		this.log = options.log ?? (() => {});
	}

	/** A hub with its default room open (TCP: the stored rooms known, the default one created if new). */
	static async start<Link>(options: RoomHubOptions<Link>): Promise<RoomHub<Link>> {
		const hub = new RoomHub(options);
		const problem = roomNameProblem(hub.defaultName);
		if (problem) throw new RangeError(`default room ${JSON.stringify(hub.defaultName)}: ${problem}`);
		if (hub.store) {
			for (const room of await hub.store.listRooms()) hub.known.set(room.key, room);
			if (!hub.known.has(hub.defaultKey))
				await hub.createStored({
					name: hub.defaultName,
					key: hub.defaultKey,
					createdAt: Date.now(),
					settings: emptyRoomSettings(),
				});
		}
		await hub.load(hub.defaultKey, hub.store ? hub.known.get(hub.defaultKey)!.name : hub.defaultName);
		return hub;
	}

	/** The default room (always open). */
	get defaultRoom(): Room<Link> {
		return this.rooms.get(this.defaultKey)!.room;
	}

	/** The rooms open now (TCP: loaded; UDP: those with members, and the default). */
	get openRooms(): number {
		return this.rooms.size;
	}

	/** An open room by name or key, or undefined. */
	find(name: string): Room<Link> | undefined {
		return this.rooms.get(roomKey(name))?.room;
	}

	/** `#Name` of an open room (the spelling it was created with). */
	labelOf(key: string): string {
		return this.rooms.get(key)?.label ?? roomLabel(this.known.get(key)?.name ?? key);
	}

	/**
	 * The room, loading it (TCP) or creating it when it does not exist and the
	 * identity may. Throws ProtocolError: bad-request (a bad name), no-such-room
	 * (creation is for admins here), not-allowed (no account to own it),
	 * too-many-rooms (the server is full).
	 */
	async open(name: string | undefined, identity: HubIdentity = {}): Promise<Room<Link>> {
		return (await this.entryFor(name, identity)).room;
	}

	/**
	 * A store-less hub's room, made at once when new (UDP: rooms come into being
	 * when joined). Throws ProtocolError: bad-request, too-many-rooms.
	 */
	openNow(name: string | undefined): Room<Link> {
		if (this.store || this.options.openJournal) throw new Error('openNow is for hubs without a store');
		const key = name === undefined ? this.defaultKey : this.checkedKey(name);
		const open = this.rooms.get(key);
		if (open) return open.room;
		this.refuseCreation({}, this.rooms.size);
		return this.createEntry(key, bare(name ?? this.defaultName), undefined).room;
	}

	/**
	 * Joins `link` to a room as `nick`: opens it (as open()), checks the
	 * account's room limit, passes the account, admin flag and read marker to the
	 * room, and remembers the membership. Throws ProtocolError.
	 */
	async join(
		link: Link,
		name: string | undefined,
		nick: string,
		identity: HubIdentity,
		options: JoinOptions,
	): Promise<{room: Room<Link>; member: Member<Link>; key: string; label: string}> {
		try {
			return await this.joinNow(link, name, nick, identity, options);
		} catch (error) {
			if (error instanceof ProtocolError) throw error;
			// The store is away (an outage, a frozen database): this join fails, the session and its other rooms go on.
			this.log(`join of ${name ?? this.defaultRoom.name} failed: ${(error as Error).message}`);
			throw new ProtocolError(
				'server-error',
				'rooms are unavailable while the database is away; try again shortly',
			);
		}
	}

	private async joinNow(
		link: Link,
		name: string | undefined,
		nick: string,
		identity: HubIdentity,
		options: JoinOptions,
	): Promise<{room: Room<Link>; member: Member<Link>; key: string; label: string}> {
		const key = name === undefined ? this.defaultKey : this.checkedKey(name);
		const {account} = identity;
		const store = this.store;
		let member = false;
		if (store && account !== undefined) {
			const memberships = await store.membershipsOf(account);
			member = memberships.includes(key);
			if (!member && identity.admin !== true && memberships.length >= this.maxRoomsPerUser)
				throw new ProtocolError(
					'too-many-rooms',
					`you are in ${memberships.length} rooms, the most this server allows; /part one first`,
				);
		}
		const entry = await this.entryFor(name, identity);
		const joinOptions: JoinOptions = {...options};
		if (account !== undefined) {
			joinOptions.account = account;
			joinOptions.admin = identity.admin === true;
			// A marker the store cannot give now only costs the unread count.
			if (store) joinOptions.read = await store.readMarker(account, key).catch(() => 0);
		}
		const joined = entry.room.join(link, nick, joinOptions);
		if (store && account !== undefined && !member)
			await store.addMembership(account, key).catch((error: Error) => {
				this.log(`membership of ${account} in ${entry.label} not stored: ${error.message}`, {
					level: 'warn',
					user: account,
					room: entry.label.slice(1),
				});
			});
		return {room: entry.room, member: joined, key, label: entry.label};
	}

	/** The account leaves the room for good: its next session does not reopen it. */
	async part(identity: HubIdentity, key: string): Promise<void> {
		if (!this.store || identity.account === undefined) return;
		await this.store.removeMembership(identity.account, key);
	}

	/** The labels of the rooms the account is in, to reopen in a new session (those still existing). */
	/** The rooms the account is in, as labels; none while the store is away (a new session then reopens nothing). */
	async memberships(account: string): Promise<string[]> {
		if (!this.store) return [];
		const keys = await this.store.membershipsOf(account).catch((error: Error) => {
			this.log(`rooms of ${account} unavailable: ${error.message}`);
			return [];
		});
		return keys.filter((key) => this.known.has(key) || this.rooms.has(key)).map((key) => this.labelOf(key));
	}

	/** Counts a session of the account; throws too-many-sessions past the cap. */
	openSession(account: string, link: Link): void {
		const key = identityKey(account);
		let links = this.sessions.get(key);
		if (!links) {
			links = new Set();
			this.sessions.set(key, links);
		}
		if (links.has(link)) return;
		if (links.size >= this.maxSessionsPerAccount)
			throw new ProtocolError(
				'too-many-sessions',
				`${account} already has ${links.size} sessions, the most this server allows`,
			);
		links.add(link);
	}

	closeSession(account: string, link: Link): void {
		const key = identityKey(account);
		const links = this.sessions.get(key);
		if (!links) return;
		links.delete(link);
		if (links.size === 0) this.sessions.delete(key);
	}

	sessionsOf(account: string): number {
		return this.sessions.get(identityKey(account))?.size ?? 0;
	}

	/**
	 * The rooms to show `identity`: every public room, and the private
	 * (invite-only) ones it is in or invited to; admins see all.
	 */
	async list(identity: HubIdentity = {}): Promise<RoomListing[]> {
		const {account} = identity;
		if (this.store && this.options.sharedRooms) await this.reloadKnown(this.store);
		const mine = new Set(this.store && account !== undefined ? await this.store.membershipsOf(account) : []);
		const accountKey = account === undefined ? undefined : identityKey(account);
		const keys = new Set([...this.known.keys(), ...this.rooms.keys()]);
		const listing: RoomListing[] = [];
		for (const key of [...keys].sort()) {
			const settings = this.known.get(key)?.settings;
			const inviteOnly = settings?.inviteOnly === true;
			if (
				inviteOnly &&
				identity.admin !== true &&
				!mine.has(key) &&
				!(accountKey !== undefined && settings?.invites.includes(accountKey))
			)
				continue;
			const room = this.rooms.get(key)?.room;
			listing.push({
				name: this.labelOf(key),
				members: room ? room.memberList().length : 0,
				...(settings?.topic ? {topic: settings.topic} : {}),
				...(inviteOnly ? {private: true} : {}),
			});
		}
		return listing;
	}

	private async reloadKnown(store: AccountStore): Promise<void> {
		try {
			for (const room of await store.listRooms()) this.known.set(room.key, room);
		} catch (error) {
			this.log(`stored rooms unavailable, listing what this server knows: ${(error as Error).message}`);
		}
	}

	/** UDP: forgets an emptied room (never the default one). TCP rooms stay loaded. */
	release(room: Room<Link>): void {
		if (this.store) return;
		const key = roomKey(room.name);
		const entry = this.rooms.get(key);
		if (entry?.room !== room || room.size > 0 || key === this.defaultKey) return;
		this.rooms.delete(key);
		entry.journal?.close();
	}

	/** Every open room. */
	all(): IterableIterator<Room<Link>> {
		return [...this.rooms.values()].map((entry) => entry.room).values();
	}

	/** Tells every member of every room goodbye and closes the journals. */
	close(reason: string): void {
		for (const entry of this.rooms.values()) {
			entry.room.closeAll(reason);
			entry.journal?.close();
		}
		this.rooms.clear();
	}

	private checkedKey(name: string): string {
		const problem = roomNameProblem(name);
		if (problem) throw new ProtocolError('bad-request', problem);
		return roomKey(name);
	}

	private async entryFor(name: string | undefined, identity: HubIdentity): Promise<Entry<Link>> {
		const key = name === undefined ? this.defaultKey : this.checkedKey(name);
		const open = this.rooms.get(key);
		if (open) return open;
		const loading = this.loading.get(key);
		if (loading) return loading;
		const bareName = bare(name ?? this.defaultName);
		if (!this.store) {
			this.refuseCreation(identity, this.rooms.size);
			return this.load(key, bareName);
		}
		let stored = this.known.get(key) ?? (await this.store.getRoom(key));
		if (!stored) {
			this.refuseCreation(identity, this.known.size);
			const account = identity.account;
			const settings = emptyRoomSettings();
			if (account !== undefined) settings.roles[identityKey(account)] = 'owner';
			stored = await this.createStored({
				name: bareName,
				key,
				...(account === undefined ? {} : {owner: account}),
				createdAt: Date.now(),
				settings,
			});
			this.log(`room #${stored.name} created${account === undefined ? '' : ` by ${account}`}`, {
				room: stored.name,
				...(account === undefined ? {} : {user: account}),
			});
		}
		this.known.set(key, stored);
		return this.load(key, stored.name);
	}

	private refuseCreation(identity: HubIdentity, rooms: number): void {
		if (this.store && identity.account === undefined)
			throw new ProtocolError('not-allowed', 'log in to create a room');
		if (this.store && this.options.roomCreation === 'admin' && identity.admin !== true)
			throw new ProtocolError('no-such-room', 'no such room, and only server admins create rooms here');
		if (rooms >= this.maxRooms)
			throw new ProtocolError('too-many-rooms', `this server holds ${this.maxRooms} rooms, its most`);
	}

	/** Stores a new room; one made meanwhile elsewhere (another server, the CLI) wins. */
	private async createStored(room: StoredRoom): Promise<StoredRoom> {
		try {
			await this.store!.createRoom(room);
			this.known.set(room.key, room);
			return room;
		} catch (error) {
			if (!(error instanceof RoomExistsError)) throw error;
			const existing = await this.store!.getRoom(room.key);
			if (!existing) throw error;
			this.known.set(room.key, existing);
			return existing;
		}
	}

	/** Opens the room (once, however many ask at the same time). */
	private load(key: string, name: string): Promise<Entry<Link>> {
		// Loaded while this opener was still looking the room up in the store (made on another server).
		const open = this.rooms.get(key);
		if (open) return Promise.resolve(open);
		const pending = this.loading.get(key);
		if (pending) return pending;
		const loading = this.makeEntry(key, name).finally(() => this.loading.delete(key));
		this.loading.set(key, loading);
		return loading;
	}

	private async makeEntry(key: string, name: string): Promise<Entry<Link>> {
		const journal = this.options.openJournal ? await this.options.openJournal(key) : undefined;
		try {
			return this.createEntry(key, name, journal);
		} catch (error) {
			journal?.close();
			throw error;
		}
	}

	private createEntry(key: string, name: string, journal: HubJournal | undefined): Entry<Link> {
		const label = roomLabel(name);
		const options: HubRoomOptions = journal ? {journal} : {};
		if (this.store) {
			const stored = this.known.get(key);
			options.moderation = true;
			options.settings = stored?.settings ?? emptyRoomSettings();
			options.onSettingsChange = (settings) => this.saveSettings(key, settings);
			options.onInvite = (account, by) => {
				this.deliverInvite(account, label, by);
				this.options.onInvite?.(account, label, by);
			};
			options.onPart = (account) => {
				this.store!.removeMembership(account, key).catch((error: Error) => {
					this.log(`part of ${account} from ${label} not stored: ${error.message}`);
				});
			};
			options.onRead = (account, seq) => {
				this.store!.setReadMarker(account, key, seq).catch((error: Error) => {
					this.log(`read marker of ${account} in ${label} not stored: ${error.message}`);
				});
			};
		}
		const entry = {room: this.options.createRoom({name, key, label, options}), label, journal};
		this.rooms.set(key, entry);
		return entry;
	}

	private saveSettings(key: string, settings: RoomSettings): void {
		const stored = this.known.get(key);
		if (stored) stored.settings = settings;
		this.store?.saveRoomSettings(key, settings).catch((error: Error) => {
			this.log(`settings of ${this.labelOf(key)} not stored: ${error.message}`);
		});
	}

	/** Tells the account's sessions here of an invite (made here, or on another node). */
	deliverInvite(account: string, label: string, by: string): void {
		const notify = this.options.notify;
		if (!notify) return;
		for (const link of this.sessions.get(identityKey(account)) ?? [])
			notify(link, {t: 'invited', room: label, by});
	}
}

function bare(name: string): string {
	return name.startsWith('#') ? name.slice(1) : name;
}
