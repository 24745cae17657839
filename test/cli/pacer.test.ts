// `parley send`'s pacer against the server's own token bucket, on a fake clock:
// the pacing is checked exactly, however busy the machine is.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {TokenBucket} from '../../server/room/token-bucket.js';
import {Pacer, type PacerClock} from '../../source/cli/send-command.js';
import {DEFAULT_LIMITS, type ServerLimits} from '../../source/protocol/messages.js';

/** A clock whose sleeps pass at once, moving time forward by what was asked. */
class FakeClock implements PacerClock {
	time = 1_000_000;
	slept = 0;
	now = (): number => this.time;
	sleep = async (ms: number): Promise<void> => {
		assert.ok(ms > 0, `sleeps ${ms} ms`);
		this.slept++;
		this.time += ms;
	};
}

/** Takes `count` sends; returns when each went out. */
async function sendTimes(pacer: Pacer, clock: FakeClock, count: number): Promise<number[]> {
	const times: number[] = [];
	for (let index = 0; index < count; index++) {
		await pacer.take();
		times.push(clock.now());
	}
	return times;
}

/** How many of those sends the server's bucket would refuse. */
function refusedBy(limits: ServerLimits, times: number[], start: number): number {
	const bucket = new TokenBucket(limits.ratePerSecond, limits.burst, start);
	return times.filter((time) => !bucket.take(time)).length;
}

describe('the send pacer', () => {
	for (const limits of [DEFAULT_LIMITS, {...DEFAULT_LIMITS, ratePerSecond: 400, burst: 10}]) {
		it(`stays under ${limits.ratePerSecond}/s with bursts of ${limits.burst}, close to the rate`, async () => {
			const clock = new FakeClock();
			const start = clock.now();
			const count = limits.ratePerSecond * 6;
			const times = await sendTimes(new Pacer(limits, clock), clock, count);
			assert.equal(refusedBy(limits, times, start), 0, 'the server never refuses one');
			// A burst one short of the server's, then 90 % of its rate.
			const burst = limits.burst - 1;
			assert.deepEqual(times.slice(0, burst), Array(burst).fill(start), 'the burst goes out at once');
			const expected = ((count - burst) / (limits.ratePerSecond * 0.9)) * 1000;
			const elapsed = times.at(-1)! - start;
			assert.ok(
				elapsed >= expected - 1 && elapsed <= expected * 1.02 + 5,
				`${count} sends took ${elapsed} ms, expected about ${expected.toFixed(0)} ms`,
			);
		});
	}

	it('refills while idle, never beyond its burst', async () => {
		const clock = new FakeClock();
		const pacer = new Pacer(DEFAULT_LIMITS, clock);
		await sendTimes(pacer, clock, 20);
		clock.time += 60_000; // a long pause saves up no more than a burst
		const start = clock.now();
		const times = await sendTimes(pacer, clock, DEFAULT_LIMITS.burst);
		assert.equal(times.filter((time) => time === start).length, DEFAULT_LIMITS.burst - 1);
	});

	it('slows down when the server refuses anyway', async () => {
		const clock = new FakeClock();
		const pacer = new Pacer(DEFAULT_LIMITS, clock);
		await sendTimes(pacer, clock, 1);
		pacer.slowDown(undefined);
		const start = clock.now();
		const times = await sendTimes(pacer, clock, 10);
		// Empty bucket, 1.5 × the interval: 10 sends take 10 × 1.5 / (0.9 × 5) s.
		const interval = (1000 / (DEFAULT_LIMITS.ratePerSecond * 0.9)) * 1.5;
		assert.ok(times[0]! - start >= interval - 1, `first send after ${times[0]! - start} ms`);
		assert.ok(times.at(-1)! - start >= 10 * interval - 10, `ten sends in ${times.at(-1)! - start} ms`);
	});
});
