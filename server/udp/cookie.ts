// Stateless join cookies: an HMAC of the source address and a coarse time
// window. Echoing one proves the address can receive, so a spoofed source can
// never become a member, and the server keeps no state for unverified peers.
import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto';

const WINDOW_MS = 30_000;

export class CookieJar {
	private readonly secret: Buffer;

	constructor(
		secret: Buffer = randomBytes(32),
		private readonly now: () => number = Date.now,
	) {
		this.secret = secret;
	}

	issue(address: string, port: number): string {
		return this.mac(address, port, Math.floor(this.now() / WINDOW_MS)).toString('base64url');
	}

	/** Accepts cookies from this window or the previous one (30–60 s of validity). */
	verify(address: string, port: number, cookie: string): boolean {
		const given = Buffer.from(cookie, 'base64url');
		if (given.length !== 16) return false;
		const window = Math.floor(this.now() / WINDOW_MS);
		let ok = false;
		for (const w of [window, window - 1]) ok = timingSafeEqual(given, this.mac(address, port, w)) || ok;
		return ok;
	}

	private mac(address: string, port: number, window: number): Buffer {
		return createHmac('sha256', this.secret).update(`${address}|${port}|${window}`).digest().subarray(0, 16);
	}
}
