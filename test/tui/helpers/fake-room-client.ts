// TEST ONLY: a RoomClient that records what the UI asks of it and lets a test
// emit RoomEvents. It stands in for the network in pure-UI rendering tests;
// end-to-end tests use the real client and server.

import type {
	ConnectionState,
	RoomClient,
	RoomEvent,
	RoomInfo,
	RoomListener,
	RoomRequest,
	SayAck,
	TransportKind,
} from '../../../source/client/types.js';
import {DEFAULT_LIMITS, type ServerLimits} from '../../../source/protocol/messages.js';

export type RecordedCall =
	/** `password` and `register` are recorded only when given, so UDP-style calls stay `{method, nick}`. */
	| {method: 'connect'; nick: string; password?: string; register?: boolean}
	| {method: 'say'; text: string; action: boolean}
	| {method: 'direct'; nick: string; text: string}
	| {method: 'changeNick'; nick: string}
	| {method: 'who'}
	| {method: 'close'};

export class FakeRoomClient implements RoomClient {
	readonly url: string;
	/** True to stand in for a TCP room: the UI shows the login form. */
	needsPassword: boolean;
	readonly transport: TransportKind;
	state: ConnectionState;
	nick: string | undefined;
	members: readonly string[];
	lagMs: number | undefined = undefined;
	limits: ServerLimits = DEFAULT_LIMITS;
	readonly calls: RecordedCall[] = [];
	/**
	 * What connect() does; by default it succeeds with the real client's events, in its order
	 * (test/contract/room-client.contract.test.ts holds the two to the same sequence).
	 */
	connectBehaviour: (nick: string, password?: string, options?: {register?: boolean}) => Promise<void> =
		async (nick) => {
			this.emit({type: 'state', state: 'connecting'});
			this.emit({type: 'state', state: 'connected'});
			this.emit({type: 'nick', nick});
			this.emit({
				type: 'members',
				members: this.members.includes(nick) ? this.members : [...this.members, nick],
			});
		};
	/** How often checkServer() was called (kept out of `calls`, which lists what the user did). */
	serverChecks = 0;
	/** What checkServer() does (password rooms only); by default the server checks out at once. */
	checkServerBehaviour: () => Promise<void> = async () => {};
	private readonly listeners = new Set<RoomListener>();

	constructor(
		options: {
			url?: string;
			transport?: TransportKind;
			state?: ConnectionState;
			nick?: string;
			members?: string[];
			needsPassword?: boolean;
		} = {},
	) {
		this.needsPassword = options.needsPassword ?? false;
		this.url = options.url ?? 'udp://localhost:7777/lobby';
		this.transport = options.transport ?? 'udp';
		this.state = options.state ?? 'connected';
		this.nick = options.nick;
		this.members = options.members ?? [];
	}

	get listenerCount(): number {
		return this.listeners.size;
	}

	emit(event: RoomEvent): void {
		if (event.type === 'room') this.onRoomInfo(event.info);
		if (event.type === 'state') this.state = event.state;
		if (event.type === 'nick') this.nick = event.nick;
		if (event.type === 'members') this.members = event.members;
		for (const listener of this.listeners) listener(event);
	}

	/** Version 2 fakes keep the room's info; this one has none. */
	protected onRoomInfo(_info: RoomInfo): void {}

	async checkServer(): Promise<void> {
		this.serverChecks++;
		await this.checkServerBehaviour();
	}

	async connect(nick: string, password?: string, options?: {register?: boolean}): Promise<void> {
		this.calls.push({
			method: 'connect',
			nick,
			...(password === undefined ? {} : {password}),
			...(options?.register === undefined ? {} : {register: options.register}),
		});
		await this.connectBehaviour(nick, password, options);
	}

	say(text: string, options: {action?: boolean} = {}): Promise<SayAck> {
		this.calls.push({method: 'say', text, action: options.action === true});
		return Promise.resolve({seq: this.calls.length, ref: `fake-${this.calls.length}`});
	}

	direct(nick: string, text: string): Promise<SayAck> {
		this.calls.push({method: 'direct', nick, text});
		return Promise.resolve({seq: this.calls.length, ref: `fake-${this.calls.length}`});
	}

	changeNick(nick: string): void {
		this.calls.push({method: 'changeNick', nick});
	}

	who(): void {
		this.calls.push({method: 'who'});
	}

	async close(): Promise<void> {
		this.calls.push({method: 'close'});
		this.emit({type: 'state', state: 'closed'});
	}

	subscribe(listener: RoomListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}
}

/**
 * A client of a version 2 server: it has the v2 members, records what the UI
 * asks of them (requests, pages, read markers, searches, parts, siblings) and
 * answers nothing by itself: a test emits the server's events.
 */
export class FakeV2RoomClient extends FakeRoomClient {
	info: RoomInfo | undefined = undefined;
	capabilities: readonly string[] = ['multi-room', 'moderation', 'history-paging', 'multi-session'];
	/** What request() answers (false: the room cannot take it). */
	acceptRequests = true;
	readonly requests: RoomRequest[] = [];
	readonly pages: {before: number; limit: number | undefined}[] = [];
	readonly reads: number[] = [];
	readonly searches: string[] = [];
	readonly parts: (string | undefined)[] = [];
	/** The clients sibling() made, in order. */
	readonly siblings: FakeV2RoomClient[] = [];

	protected override onRoomInfo(info: RoomInfo): void {
		this.info = info;
	}

	get roomName(): string | undefined {
		return this.info?.name;
	}

	request(request: RoomRequest): boolean {
		if (!this.acceptRequests) return false;
		this.requests.push(request);
		return true;
	}

	sibling(room: string): FakeV2RoomClient {
		const server = /^[a-z]+:\/\/[^/#]+/.exec(this.url)?.[0] ?? this.url;
		const client = new FakeV2RoomClient({
			url: `${server}/${room}`,
			transport: this.transport,
			state: 'closed',
			needsPassword: this.needsPassword,
		});
		this.siblings.push(client);
		return client;
	}

	async part(reason?: string): Promise<void> {
		this.parts.push(reason);
		await this.close();
	}

	loadOlder(before: number, limit?: number): boolean {
		this.pages.push({before, limit});
		return true;
	}

	markRead(seq: number): void {
		this.reads.push(seq);
	}

	search(text: string): boolean {
		this.searches.push(text);
		return true;
	}
}
