// What the fan-out benchmark's processes say to each other over IPC: the
// runner (bench/fanout.ts), its member processes (bench/member-child.ts) and
// the room server children (bench/*-server-child.ts). Types only.

/**
 * How a member process reaches the room under test: a UDP room through the
 * real client (RoomClient), the others through the lean clients of
 * bench/peer-members.ts. A new target adds a variant here and a connector.
 */
export type TargetSpec =
	| {kind: 'udp'; url: string}
	/** A TCP room of `parley serve`, accounts m000… with one password; plaintext with --insecure-plaintext. */
	| {kind: 'parley'; host: string; port: number; password: string; tls: boolean}
	/** An IRC server: NICK/USER, JOIN, PRIVMSG. */
	| {kind: 'irc'; host: string; port: number; channel: string}
	/** Redis pub/sub: SUBSCRIBE, and PUBLISH over a connection of its own. */
	| {kind: 'redis'; host: string; port: number; channel: string};

/** What the runner asks of member processes once they have joined: a step at a time. */
export type StepRequest =
	| {type: 'run'; step: number; ratePerSender: number; durationMs: number; startAt: number}
	| {type: 'count'; step: number}
	| {type: 'report'; step: number}
	| {type: 'quit'};

/** What member processes answer to a step (the report is each benchmark's own), or that something failed. */
export type StepReply =
	| {type: 'sent'; step: number; sent: number; durationMs: number}
	| {type: 'count'; step: number; received: number}
	| {type: 'error'; message: string};

/** The part of a member process's step report every fan-out benchmark makes. */
export interface StepReportBase {
	type: 'report';
	step: number;
	received: number;
	lostEvents: number;
	failed: number;
	/** Members that lost their connection (e.g. cut off as too slow) during the step. */
	disconnects: number;
	/** CPU time used from the start of the step to the report, and that wall time. */
	cpuMs: number;
	windowMs: number;
	/** When the last delivery of this step arrived (clock()). */
	lastAt: number;
	/** This process's event-loop delay during the step. */
	loopDelay: LoopDelay;
}

export type ToMembers =
	/** Log each user in (and straight out again) with at most `concurrency` in flight, starting at `startAt`. */
	| {type: 'logins'; target: TargetSpec; users: string[]; concurrency: number; startAt: number}
	| {
			type: 'join';
			target: TargetSpec;
			nicks: string[];
			senders: string[];
			concurrency: number;
			startAt: number;
	  }
	| StepRequest;

export type FromMembers =
	| {
			type: 'logins';
			/** Milliseconds from starting the connection to the server's proof checked, per successful login. */
			timesMs: Float64Array;
			failures: number;
			firstError: string | null;
			/** clock() when the last login finished. */
			endAt: number;
			cpuMs: number;
	  }
	| {type: 'joined'; count: number; timesMs: Float64Array; endAt: number; cpuMs: number}
	| StepReply
	| (StepReportBase & {
			/** Latency counts per bin of bench/latency-histogram.ts, and the largest latency (ms). */
			histogram: Float64Array;
			max: number;
			lostMessages: number;
			errors: number;
	  });

/** Milliseconds a timer fired late: how long the process's event loop was blocked. */
export interface LoopDelay {
	p99: number;
	max: number;
}

export type ServerChildRequest = {type: 'stats'} | {type: 'quit'};

export type ServerChildReply =
	| {type: 'ready'; port: number; detail: Record<string, unknown>}
	| {
			type: 'stats';
			members: number;
			/** User + system CPU time since the process started, in milliseconds. */
			cpuMs: number;
			/** Monotonic counters; the runner reports their change over each step. */
			counters: Record<string, number>;
			/** Event-loop delay since the previous stats request (the histogram restarts on each). */
			loopDelay: LoopDelay;
			/** TCP server: resident memory, rooms open, members in all rooms. */
			rssBytes?: number;
			rooms?: number;
			memberships?: number;
			/** Linux: time the main thread has waited for a CPU since it started (the machine's other jobs). */
			runQueueWaitMs?: number;
			/** Servers run as programs: samples of the main thread's state, and how many found it blocked on I/O (D). */
			stateSamples?: {total: number; blocked: number};
	  };

// ---- the many-rooms benchmark (bench/many-rooms.ts and bench/rooms-child.ts) ----

/** A TCP server and the password every benchmark account has. */
export interface RoomsTarget {
	host: string;
	port: number;
	password: string;
}

export type ToRoomsChild =
	/** Each account logs in once (joining its first room), then joins the others on that connection. */
	| {
			type: 'accounts';
			target: RoomsTarget;
			accounts: Array<{user: string; rooms: string[]}>;
			loginConcurrency: number;
			joinConcurrency: number;
			startAt: number;
	  }
	/** One account logs in (default room), joins `rooms` one at a time, then leaves them all. */
	| {type: 'probe'; target: RoomsTarget; user: string; rooms: string[]}
	/** One account sends `count` messages into `room` and leaves. */
	| {type: 'fill'; target: RoomsTarget; user: string; room: string; count: number}
	/** Each reader joins `room` and pages back from `before` to the start, a page every `intervalMs` at most. */
	| {
			type: 'read';
			target: RoomsTarget;
			users: string[];
			room: string;
			before: number;
			pageSize: number;
			intervalMs: number;
	  }
	/** Messages at `rate` a second into random rooms of this process's accounts. */
	| {type: 'run'; step: number; rate: number; durationMs: number; startAt: number}
	| {type: 'count'; step: number}
	| {type: 'report'; step: number}
	| {type: 'quit'};

export type FromRoomsChild =
	| {
			type: 'accounts';
			/** Login and first join, per account. */
			loginMs: Float64Array;
			/** Joins of the other rooms over the open connection (hello → welcome). */
			joinMs: Float64Array;
			loginsEndAt: number;
			joinsStartAt: number;
			joinsEndAt: number;
			memberships: number;
			cpuMs: number;
	  }
	| {type: 'probe'; joinMs: Float64Array}
	| {type: 'fill'; lastSeq: number; ms: number}
	/** The readers have joined and asked for their first pages. */
	| {type: 'reading'}
	| {
			type: 'read';
			pageMs: Float64Array;
			pages: number;
			/** Per reader: chat messages received, seqs missing or twice, and whether the last page said complete. */
			readers: Array<{
				messages: number;
				events: number;
				missing: number;
				duplicates: number;
				complete: boolean;
			}>;
			errors: string[];
			ms: number;
	  }
	| {type: 'sent'; step: number; sent: number}
	| {type: 'count'; step: number; received: number}
	| {
			type: 'report';
			step: number;
			received: number;
			latencies: Float64Array;
			lost: number;
			failed: number;
			errors: number;
			disconnects: number;
			cpuMs: number;
			windowMs: number;
			loopDelay: LoopDelay;
	  }
	| {type: 'error'; message: string};
