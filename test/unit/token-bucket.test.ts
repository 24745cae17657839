// The per-member rate limit: `rate` tokens a second, at most `burst` saved up.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {TokenBucket} from '../../server/room/token-bucket.js';

const takes = (bucket: TokenBucket, now: number, count: number): boolean[] =>
	Array.from({length: count}, () => bucket.take(now));

describe('TokenBucket', () => {
	it('allows a burst at once, then refuses', () => {
		const bucket = new TokenBucket(5, 3, 0);
		assert.deepEqual(takes(bucket, 0, 4), [true, true, true, false]);
	});

	it('refills at the rate, by fractions of a token', () => {
		const bucket = new TokenBucket(4, 2, 0);
		takes(bucket, 0, 2);
		assert.equal(bucket.take(100), false, '0.4 of a token');
		assert.equal(bucket.take(250), true, 'one token after 250 ms at 4 a second');
		assert.equal(bucket.take(250), false);
	});

	it('saves up no more than the burst however long it idles', () => {
		const bucket = new TokenBucket(10, 3, 0);
		takes(bucket, 0, 3);
		assert.deepEqual(takes(bucket, 3_600_000, 4), [true, true, true, false]);
	});

	it('charges a cost of several tokens, refusing without charging when short', () => {
		const bucket = new TokenBucket(1, 5, 0);
		assert.equal(bucket.take(0, 4), true);
		assert.equal(bucket.take(0, 2), false);
		assert.equal(bucket.take(0, 1), true, 'the refused take cost nothing');
	});
});
