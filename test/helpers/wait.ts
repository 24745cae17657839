// Polling helpers: tests wait for a condition, never for a fixed time.
import {sleep as delay} from '../../source/util/sleep.js';

export {delay};

export async function waitFor<T>(
	probe: () => T | undefined | false,
	{
		timeout = 10_000,
		interval = 10,
		what = 'condition',
	}: {timeout?: number; interval?: number; what?: string} = {},
): Promise<T> {
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = probe();
		if (value !== undefined && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await delay(interval);
	}
}
