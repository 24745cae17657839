import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {addressKey, ConnectionLimiter} from '../../server/auth/connection-limiter.js';

describe('connection limiter', () => {
	test('caps connections per address and releases them once', () => {
		const limiter = new ConnectionLimiter({maxPerAddress: 2, maxTotal: 10});
		const a = limiter.tryAcquire('10.0.0.1');
		const b = limiter.tryAcquire('::ffff:10.0.0.1');
		assert.ok(a.ok && b.ok);
		assert.deepEqual(limiter.tryAcquire('10.0.0.1'), {ok: false, reason: 'per-address'});
		assert.ok(limiter.tryAcquire('10.0.0.2').ok);
		a.release();
		a.release(); // a second release must not free someone else's slot
		assert.equal(limiter.countFor('10.0.0.1'), 1);
		assert.equal(limiter.total, 2);
		assert.ok(limiter.tryAcquire('10.0.0.1').ok);
		assert.deepEqual(limiter.tryAcquire('10.0.0.1'), {ok: false, reason: 'per-address'});
	});

	test('caps the total', () => {
		const limiter = new ConnectionLimiter({maxPerAddress: 5, maxTotal: 3});
		const leases = ['a', 'b', 'c'].map((host) => limiter.tryAcquire(`192.0.2.${host.charCodeAt(0)}`));
		assert.ok(leases.every((lease) => lease.ok));
		assert.deepEqual(limiter.tryAcquire('192.0.2.200'), {ok: false, reason: 'total'});
		const first = leases[0];
		if (first?.ok) first.release();
		assert.ok(limiter.tryAcquire('192.0.2.200').ok);
	});

	test('addressKey groups IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
		assert.equal(addressKey('::ffff:1.2.3.4'), '1.2.3.4');
		assert.equal(addressKey('1.2.3.4'), '1.2.3.4');
		assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
		assert.equal(addressKey('2001:0db8:0000:0000:1:2:3:4'), '2001:db8:0:0::/64');
		assert.equal(addressKey('::1'), '0:0:0:0::/64');
		assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
	});
});
