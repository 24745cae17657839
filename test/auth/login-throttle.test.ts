import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {LoginThrottle, type LoginAttempt, type ThrottleDecision} from '../../server/auth/login-throttle.js';

function fakeClock(start = 1_000_000): {now: () => number; advance: (ms: number) => void} {
	let time = start;
	return {
		now: () => time,
		advance: (ms) => {
			time += ms;
		},
	};
}

function attempt(decision: ThrottleDecision | {allowed: true; attempt: LoginAttempt}): LoginAttempt {
	assert.ok('attempt' in decision, `expected an allowed attempt, got ${JSON.stringify(decision)}`);
	return decision.attempt;
}

/** A guess that fails: reserved, then finished without success. */
function fail(throttle: LoginThrottle, account: string, address: string): void {
	attempt(throttle.reserve(account, address)).finished();
}

describe('login throttle', () => {
	test('five failures in a minute from one address lock that address out of the account until the oldest ages out', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now});
		for (let i = 0; i < 5; i++) {
			fail(throttle, 'alice', '10.0.0.1');
			clock.advance(1000);
		}
		// Failures at t=0..4s; now t=5s. The first leaves the window at t=60s.
		const locked = {allowed: false, retryAfterMs: 55_000, scope: 'address-account'};
		assert.deepEqual(throttle.check('alice', '10.0.0.1'), locked);
		assert.deepEqual(throttle.reserve('ALICE', '10.0.0.1'), locked);
		// The owner elsewhere is not locked out by a stranger's guesses.
		assert.deepEqual(throttle.check('alice', '10.0.0.2'), {allowed: true});
		assert.deepEqual(throttle.check('bob', '10.0.0.1'), {allowed: true});
		clock.advance(54_999);
		assert.equal(throttle.check('alice', '10.0.0.1').allowed, false);
		clock.advance(1);
		assert.deepEqual(throttle.check('alice', '10.0.0.1'), {allowed: true});
		// The window slides: one more failure locks again until the second-oldest ages out.
		fail(throttle, 'alice', '10.0.0.1');
		assert.deepEqual(throttle.check('alice', '10.0.0.1'), {
			allowed: false,
			retryAfterMs: 1000,
			scope: 'address-account',
		});
	});

	test('parallel attempts are counted when reserved, and one per account is in flight', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now, inFlightRetryMs: 700});
		const first = attempt(throttle.reserve('alice', '10.0.0.1'));
		assert.deepEqual(throttle.reserve('alice', '10.0.0.9'), {
			allowed: false,
			retryAfterMs: 700,
			scope: 'in-flight',
		});
		first.finished();
		for (let i = 0; i < 4; i++) fail(throttle, 'alice', '10.0.0.1');
		assert.equal(throttle.reserve('alice', '10.0.0.1').allowed, false);
	});

	test('the account-wide limit is slower and counts every address', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now, perAccount: {maxFailures: 8, windowMs: 600_000}});
		for (let i = 0; i < 8; i++) fail(throttle, 'alice', `10.0.2.${i}`);
		assert.deepEqual(throttle.check('alice', '10.9.9.9'), {
			allowed: false,
			retryAfterMs: 600_000,
			scope: 'account',
		});
	});

	test('unknown accounts are throttled exactly like real ones', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now});
		for (let i = 0; i < 5; i++) fail(throttle, 'no-such-user', '10.0.1.1');
		assert.equal(throttle.check('no-such-user', '10.0.1.1').allowed, false);
	});

	test('one address guessing across many accounts is throttled per address', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now, perAddress: {maxFailures: 3, windowMs: 10_000}});
		for (const name of ['a', 'b', 'c']) fail(throttle, name, '192.0.2.7');
		assert.deepEqual(throttle.check('d', '192.0.2.7'), {
			allowed: false,
			retryAfterMs: 10_000,
			scope: 'address',
		});
		assert.deepEqual(throttle.check('d', '::ffff:192.0.2.7'), {
			allowed: false,
			retryAfterMs: 10_000,
			scope: 'address',
		});
		assert.deepEqual(throttle.check('d', '192.0.2.8'), {allowed: true});
		clock.advance(10_000);
		assert.deepEqual(throttle.check('d', '192.0.2.7'), {allowed: true});
	});

	test('IPv6 addresses in one /64 share a budget', () => {
		const throttle = new LoginThrottle({
			now: fakeClock().now,
			perAddress: {maxFailures: 2, windowMs: 10_000},
		});
		fail(throttle, 'a', '2001:db8:1:2::1');
		fail(throttle, 'b', '2001:db8:1:2:ffff::9');
		assert.equal(throttle.check('c', '2001:db8:1:2:abcd::1').allowed, false);
		assert.equal(throttle.check('c', '2001:db8:1:3::1').allowed, true);
	});

	test('success clears the account but not the address', () => {
		const throttle = new LoginThrottle({
			now: fakeClock().now,
			perAddress: {maxFailures: 6, windowMs: 60_000},
		});
		for (let i = 0; i < 4; i++) fail(throttle, 'alice', '10.0.0.1');
		attempt(throttle.reserve('alice', '10.0.0.1')).succeeded();
		assert.deepEqual(throttle.check('alice', '10.0.0.1'), {allowed: true});
		fail(throttle, 'bob', '10.0.0.1');
		fail(throttle, 'bob', '10.0.0.1');
		assert.equal(throttle.check('carol', '10.0.0.1').allowed, false);
	});

	test('memory stays bounded under a spray of names', () => {
		const clock = fakeClock();
		const throttle = new LoginThrottle({now: clock.now, maxTracked: 100});
		for (let i = 0; i < 1000; i++) {
			throttle.recordFailure(`user${i}`, `10.1.${Math.floor(i / 250)}.${i % 250}`);
			clock.advance(1);
		}
		assert.ok(throttle.tracked.accounts <= 100);
		assert.ok(throttle.tracked.addresses <= 100);
	});
});
