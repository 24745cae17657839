// Slows password guessing: too many failed logins within a sliding window,
// for one account or from one address, and further attempts are refused
// until the oldest failure leaves the window. Accounts are throttled whether
// or not they exist, so the throttle itself reveals nothing about them.

import {identityKey} from '../../source/protocol/names.js';
import {addressKey} from './connection-limiter.js';

export interface ThrottleRule {
	maxFailures: number;
	windowMs: number;
}

export interface LoginThrottleOptions {
	perAccount?: ThrottleRule;
	/** Looser than per account: several people may share one NAT address. */
	perAddress?: ThrottleRule;
	/** Keys tracked per kind before the stalest are forgotten, bounding memory under a spray. */
	maxTracked?: number;
	now?: () => number;
}

export type ThrottleDecision =
	| {allowed: true}
	| {allowed: false; retryAfterMs: number; scope: 'account' | 'address'};

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
	readonly #accounts: SlidingWindowCounter;
	readonly #addresses: SlidingWindowCounter;
	readonly #now: () => number;

	constructor(options: LoginThrottleOptions = {}) {
		const maxTracked = options.maxTracked ?? 100_000;
		this.#accounts = new SlidingWindowCounter(
			options.perAccount ?? {maxFailures: 5, windowMs: 60_000},
			maxTracked,
		);
		this.#addresses = new SlidingWindowCounter(
			options.perAddress ?? {maxFailures: 20, windowMs: 60_000},
			maxTracked,
		);
		this.#now = options.now ?? Date.now;
	}

	/** Ask before verifying a password; a refusal should be answered with the generic 'throttled' error. */
	check(account: string, address: string): ThrottleDecision {
		const now = this.#now();
		const byAddress = this.#addresses.retryAfter(addressKey(address), now);
		if (byAddress > 0) return {allowed: false, retryAfterMs: byAddress, scope: 'address'};
		const byAccount = this.#accounts.retryAfter(identityKey(account), now);
		if (byAccount > 0) return {allowed: false, retryAfterMs: byAccount, scope: 'account'};
		return {allowed: true};
	}

	recordFailure(account: string, address: string): void {
		const now = this.#now();
		this.#accounts.record(identityKey(account), now);
		this.#addresses.record(addressKey(address), now);
	}

	/**
	 * Forgets the account's failures. The address keeps its count: otherwise an
	 * attacker holding one valid account could reset it between guesses at others.
	 */
	recordSuccess(account: string): void {
		this.#accounts.clear(identityKey(account));
	}

	/** Number of keys held, for tests and metrics. */
	get tracked(): {accounts: number; addresses: number} {
		return {accounts: this.#accounts.size, addresses: this.#addresses.size};
	}
}
