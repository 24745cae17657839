// Stateless UDP join cookies: an HMAC of the source address and a time window.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {CookieJar} from '../../server/udp/cookie.js';

const WINDOW_MS = 30_000;

function jar(secret = Buffer.alloc(32, 7)) {
	const clock = {time: 10 * WINDOW_MS};
	return {clock, cookies: new CookieJar(secret, () => clock.time)};
}

describe('CookieJar', () => {
	it('accepts its own cookie from the same address and port only', () => {
		const {cookies} = jar();
		const cookie = cookies.issue('192.0.2.1', 4000);
		assert.equal(cookies.verify('192.0.2.1', 4000, cookie), true);
		assert.equal(cookies.verify('192.0.2.1', 4001, cookie), false, 'another port');
		assert.equal(cookies.verify('192.0.2.2', 4000, cookie), false, 'another address');
	});

	it('keeps a cookie valid into the next window, not beyond', () => {
		const {clock, cookies} = jar();
		clock.time += WINDOW_MS - 1; // the end of the window it was issued in
		const cookie = cookies.issue('192.0.2.1', 4000);
		clock.time += WINDOW_MS; // the next window
		assert.equal(cookies.verify('192.0.2.1', 4000, cookie), true);
		clock.time += WINDOW_MS; // two windows on
		assert.equal(cookies.verify('192.0.2.1', 4000, cookie), false);
	});

	it('refuses another server’s cookie, a forged one and garbage', () => {
		const {cookies} = jar();
		const other = jar(Buffer.alloc(32, 8)).cookies;
		assert.equal(cookies.verify('192.0.2.1', 4000, other.issue('192.0.2.1', 4000)), false);
		const cookie = cookies.issue('192.0.2.1', 4000);
		const flipped = Buffer.from(cookie, 'base64url');
		flipped[0]! ^= 1;
		assert.equal(cookies.verify('192.0.2.1', 4000, flipped.toString('base64url')), false);
		for (const junk of ['', 'AAAA', cookie.slice(0, -2), `${cookie}AA`, 'not base64 at all!'])
			assert.equal(cookies.verify('192.0.2.1', 4000, junk), false, JSON.stringify(junk));
	});

	it('issues different cookies for different addresses and windows', () => {
		const {clock, cookies} = jar();
		const first = cookies.issue('192.0.2.1', 4000);
		assert.notEqual(cookies.issue('192.0.2.1', 4001), first);
		clock.time += WINDOW_MS;
		assert.notEqual(cookies.issue('192.0.2.1', 4000), first);
	});
});
