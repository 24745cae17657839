// Parallel password guessing at one account from 40 source addresses for a
// minute against a `parley serve` with its default throttle: the guesses the
// server evaluates stay within the limits, and the owner still gets in.
import {guess, password, row, startServe, type Row} from './kit.js';

const SCENARIO = '3 brute force';
const ADDRESSES = 40;
const WINDOW_MS = 60_000;
// The defaults of server/auth/login-throttle.ts.
const PER_ADDRESS_ACCOUNT = 5; // a minute
const PER_ACCOUNT = 100; // an hour

export async function bruteForce(): Promise<Row[]> {
	const served = await startServe(['alice']);
	try {
		const evaluatedFrom = new Map<string, number>();
		let throttled = 0;
		let attempts = 0;
		let accepted = 0;
		const deadline = Date.now() + WINDOW_MS;
		const attackers = Array.from({length: ADDRESSES}, async (_, i) => {
			const address = `127.0.0.${100 + i}`;
			while (Date.now() < deadline) {
				attempts++;
				const outcome = await guess(served.port, 'alice', `wrong guess ${attempts}`, address).catch(
					(): {t: string; code?: unknown} => ({t: 'closed'}),
				);
				if (outcome.t === 'auth-ok') accepted++;
				else if (outcome.code === 'auth-failed')
					evaluatedFrom.set(address, (evaluatedFrom.get(address) ?? 0) + 1);
				else if (outcome.code === 'throttled') throttled++;
			}
		});
		await Promise.all(attackers);
		const evaluated = [...evaluatedFrom.values()].reduce((a, b) => a + b, 0);
		const worstAddress = Math.max(0, ...evaluatedFrom.values());
		const owner = await guess(served.port, 'alice', password('alice'), '127.0.0.2');
		return [
			row(SCENARIO, `guesses tried in 60 s from ${ADDRESSES} addresses`, attempts, '—', attempts > ADDRESSES),
			row(
				SCENARIO,
				'guesses evaluated at the account in that minute',
				evaluated,
				`≤ ${PER_ACCOUNT} (account, per hour)`,
				evaluated <= PER_ACCOUNT,
			),
			row(
				SCENARIO,
				'most evaluated from one address',
				worstAddress,
				`≤ ${PER_ADDRESS_ACCOUNT} a minute`,
				worstAddress <= PER_ADDRESS_ACCOUNT,
			),
			row(SCENARIO, 'guesses refused as throttled', throttled, '—', true),
			row(SCENARIO, 'wrong guesses accepted', accepted, '0', accepted === 0),
			// Not a bound: 40 addresses × 5 a minute exhaust the account-wide 100 an hour by design.
			row(
				SCENARIO,
				'owner from 127.0.0.2 afterwards (informational)',
				String(owner.code ?? owner.t),
				'—',
				true,
			),
		];
	} finally {
		await served.serve.stop();
	}
}
