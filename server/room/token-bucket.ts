// A token bucket: `rate` tokens a second, at most `burst` saved up. Used for
// per-member message rates so a short burst is fine and a flood is not.
export class TokenBucket {
	private tokens: number;
	private last: number;

	constructor(
		private readonly rate: number,
		private readonly burst: number,
		now: number,
	) {
		this.tokens = burst;
		this.last = now;
	}

	take(now: number, cost = 1): boolean {
		this.refill(now);
		if (this.tokens < cost) return false;
		this.tokens -= cost;
		return true;
	}

	/** Milliseconds until `take(cost)` would succeed; 0 when it would now. */
	waitMs(now: number, cost = 1): number {
		this.refill(now);
		if (this.tokens >= cost) return 0;
		return this.rate > 0 ? Math.ceil(((cost - this.tokens) / this.rate) * 1000) : Number.MAX_SAFE_INTEGER;
	}

	private refill(now: number): void {
		this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
		this.last = now;
	}
}
