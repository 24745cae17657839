// Slows password guessing: too many failed logins within a sliding window,
// from one address at one account, from one address at all, or at one account
// from anywhere, and further attempts are refused until the oldest failure
// leaves the window. The account-wide rule is much slower than the one per
// address and account, so a stranger's few guesses cannot lock the owner out.
// An attempt is reserved (counted as a failure) when it starts and forgiven
// if it succeeds, so parallel guesses cannot slip in between check and count;
// and one login per account is evaluated at a time. Accounts are throttled
// whether or not they exist, so the throttle itself reveals nothing about them.

import {identityKey} from '../../source/protocol/names.js';
import {addressKey} from './connection-limiter.js';

export interface ThrottleRule {
	maxFailures: number;
	windowMs: number;
}

export interface LoginThrottleOptions {
	/** One address guessing at one account (default 5 a minute). */
	perAddressAccount?: ThrottleRule;
	/** Looser: several people may share one NAT address (default 20 a minute). */
	perAddress?: ThrottleRule;
	/** One account from everywhere, slow: the owner stays able to log in (default 100 an hour). */
	perAccount?: ThrottleRule;
	/** How long a login waits when another one for the account is in progress (default 1 s). */
	inFlightRetryMs?: number;
	/** Keys tracked per kind before the stalest are forgotten, bounding memory under a spray. */
	maxTracked?: number;
	now?: () => number;
}

export type ThrottleDecision =
	| {allowed: true}
	| {allowed: false; retryAfterMs: number; scope: 'account' | 'address' | 'address-account' | 'in-flight'};

/** A reserved attempt: already counted as a failure until it is declared a success. */
export interface LoginAttempt {
	succeeded(): void;
	/** A failure (or an abandoned login): the reservation stays counted. Idempotent. */
	finished(): void;
}

/** Failure timestamps per key, at most maxFailures of them. */
class SlidingWindowCounter {
	readonly #failures = new Map<string, number[]>();

	constructor(
		readonly rule: ThrottleRule,
		readonly maxTracked: number,
	) {}

	/** Milliseconds until another attempt is allowed; 0 when allowed now. */
	retryAfter(key: string, now: number): number {
		const recent = this.#recent(key, now);
		if (recent.length < this.rule.maxFailures) return 0;
		return (recent[recent.length - this.rule.maxFailures] as number) + this.rule.windowMs - now;
	}

	/** Takes back one failure recorded at `at` (a reservation that succeeded). */
	forgive(key: string, at: number): void {
		const times = this.#failures.get(key);
		const index = times?.lastIndexOf(at) ?? -1;
		if (times && index >= 0) times.splice(index, 1);
	}

	record(key: string, now: number): void {
		const recent = this.#recent(key, now);
		recent.push(now);
		if (recent.length > this.rule.maxFailures) recent.splice(0, recent.length - this.rule.maxFailures);
		// Re-inserting moves the key to the end, so eviction takes the least recently failed.
		this.#failures.delete(key);
		this.#failures.set(key, recent);
		if (this.#failures.size > this.maxTracked) this.#evict(now);
	}

	clear(key: string): void {
		this.#failures.delete(key);
	}

	get size(): number {
		return this.#failures.size;
	}

	#recent(key: string, now: number): number[] {
		const all = this.#failures.get(key) ?? [];
		return all.filter((at) => at > now - this.rule.windowMs);
	}

	#evict(now: number): void {
		for (const [key, times] of this.#failures) {
			if (times.every((at) => at <= now - this.rule.windowMs)) this.#failures.delete(key);
		}
		for (const key of this.#failures.keys()) {
			if (this.#failures.size <= this.maxTracked) break;
			this.#failures.delete(key);
		}
	}
}

export class LoginThrottle {
	readonly #addressAccounts: SlidingWindowCounter;
	readonly #addresses: SlidingWindowCounter;
	readonly #accounts: SlidingWindowCounter;
	readonly #inFlight = new Set<string>();
	readonly #inFlightRetryMs: number;
	readonly #now: () => number;

	constructor(options: LoginThrottleOptions = {}) {
		const maxTracked = options.maxTracked ?? 100_000;
		this.#addressAccounts = new SlidingWindowCounter(
			options.perAddressAccount ?? {maxFailures: 5, windowMs: 60_000},
			maxTracked,
		);
		this.#addresses = new SlidingWindowCounter(
			options.perAddress ?? {maxFailures: 20, windowMs: 60_000},
			maxTracked,
		);
		this.#accounts = new SlidingWindowCounter(
			options.perAccount ?? {maxFailures: 100, windowMs: 3_600_000},
			maxTracked,
		);
		this.#inFlightRetryMs = options.inFlightRetryMs ?? 1000;
		this.#now = options.now ?? Date.now;
	}

	/** Whether an attempt would be allowed now; reserve() is what a login must call. */
	check(account: string, address: string): ThrottleDecision {
		const now = this.#now();
		const byAddress = this.#addresses.retryAfter(addressKey(address), now);
		if (byAddress > 0) return {allowed: false, retryAfterMs: byAddress, scope: 'address'};
		const byPair = this.#addressAccounts.retryAfter(pairKey(account, address), now);
		if (byPair > 0) return {allowed: false, retryAfterMs: byPair, scope: 'address-account'};
		const byAccount = this.#accounts.retryAfter(identityKey(account), now);
		if (byAccount > 0) return {allowed: false, retryAfterMs: byAccount, scope: 'account'};
		return {allowed: true};
	}

	/**
	 * Checks and, when allowed, counts the attempt at once (a refusal answers
	 * with the generic 'throttled' error). The caller ends it with succeeded()
	 * or finished().
	 */
	reserve(account: string, address: string): ThrottleDecision | {allowed: true; attempt: LoginAttempt} {
		const decision = this.check(account, address);
		if (!decision.allowed) return decision;
		const key = identityKey(account);
		if (this.#inFlight.has(key))
			return {allowed: false, retryAfterMs: this.#inFlightRetryMs, scope: 'in-flight'};
		const at = this.#now();
		const pair = pairKey(account, address);
		const byAddress = addressKey(address);
		this.#addressAccounts.record(pair, at);
		this.#addresses.record(byAddress, at);
		this.#accounts.record(key, at);
		this.#inFlight.add(key);
		let open = true;
		const finished = () => {
			if (!open) return;
			open = false;
			this.#inFlight.delete(key);
		};
		return {
			allowed: true,
			attempt: {
				succeeded: () => {
					if (!open) return;
					finished();
					// The account's record is cleared as before; the address keeps its
					// other failures, so a valid account cannot reset guesses at others.
					this.#addresses.forgive(byAddress, at);
					this.#addressAccounts.clear(pair);
					this.#accounts.clear(key);
				},
				finished,
			},
		};
	}

	/** Counts a failure that was not reserved (registration attempts). */
	recordFailure(account: string, address: string): void {
		const now = this.#now();
		this.#addressAccounts.record(pairKey(account, address), now);
		this.#accounts.record(identityKey(account), now);
		this.#addresses.record(addressKey(address), now);
	}

	/** Number of keys held, for tests and metrics. */
	get tracked(): {accounts: number; addresses: number} {
		return {accounts: this.#accounts.size, addresses: this.#addresses.size};
	}
}

function pairKey(account: string, address: string): string {
	return `${addressKey(address)} ${identityKey(account)}`;
}
