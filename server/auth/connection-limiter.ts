// Caps concurrent connections per client address and in total, so one host
// cannot use up every socket (or every slot of the login throttle).

import {isIPv6} from 'node:net';

/**
 * The unit "one address" is counted in. IPv4-mapped IPv6 becomes plain IPv4;
 * other IPv6 addresses count per /64, since a single host usually owns a whole
 * /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	if (mapped?.[1] !== undefined) return mapped[1];
	if (!isIPv6(address)) return address;
	const withoutZone = address.replace(/%.*$/, '');
	const [head = '', tail = ''] = withoutZone.split('::');
	const headGroups = head === '' ? [] : head.split(':');
	const tailGroups = tail === '' ? [] : tail.split(':');
	const missing = 8 - headGroups.length - tailGroups.length;
	const groups = withoutZone.includes('::')
		? [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups]
		: headGroups;
	return `${groups
		.slice(0, 4)
		.map((group) => Number.parseInt(group, 16).toString(16))
		.join(':')}::/64`;
}

export interface ConnectionLimits {
	maxPerAddress?: number;
	maxTotal?: number;
}

export type ConnectionAdmission =
	| {ok: true; release: () => void}
	| {ok: false; reason: 'per-address' | 'total'};

export class ConnectionLimiter {
	readonly maxPerAddress: number;
	readonly maxTotal: number;
	readonly #perAddress = new Map<string, number>();
	#total = 0;

	constructor(limits: ConnectionLimits = {}) {
		this.maxPerAddress = limits.maxPerAddress ?? 8;
		this.maxTotal = limits.maxTotal ?? 512;
	}

	get total(): number {
		return this.#total;
	}

	countFor(address: string): number {
		return this.#perAddress.get(addressKey(address)) ?? 0;
	}

	/** Admits a connection or says why not; call release() exactly when it closes (extra calls are ignored). */
	tryAcquire(address: string): ConnectionAdmission {
		const key = addressKey(address);
		const current = this.#perAddress.get(key) ?? 0;
		if (this.#total >= this.maxTotal) return {ok: false, reason: 'total'};
		if (current >= this.maxPerAddress) return {ok: false, reason: 'per-address'};
		this.#perAddress.set(key, current + 1);
		this.#total++;
		let released = false;
		return {
			ok: true,
			release: () => {
				if (released) return;
				released = true;
				this.#total--;
				const remaining = (this.#perAddress.get(key) ?? 1) - 1;
				if (remaining === 0) this.#perAddress.delete(key);
				else this.#perAddress.set(key, remaining);
			},
		};
	}
}
