// TEST ONLY: a `parley serve` metrics endpoint read over real HTTP, its
// Prometheus text parsed into samples keyed as printed (`name{labels}`).

export type Samples = ReadonlyMap<string, number>;

export async function scrape(base: string): Promise<Samples> {
	const response = await fetch(`${base}/metrics`);
	if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
	const samples = new Map<string, number>();
	for (const line of (await response.text()).split('\n')) {
		if (line === '' || line.startsWith('#')) continue;
		const space = line.lastIndexOf(' ');
		samples.set(line.slice(0, space), Number(line.slice(space + 1)));
	}
	return samples;
}

/** A sample's value; a sample not (yet) there counts 0, as for a counter never bumped. */
export function sample(samples: Samples, key: string): number {
	return samples.get(key) ?? 0;
}

export async function health(base: string): Promise<{status: number; body: string}> {
	const response = await fetch(`${base}/healthz`);
	return {status: response.status, body: await response.text()};
}

/** The endpoint `parley serve` announced in its log. */
export function metricsBase(log: string): string {
	const found = /metrics on (http:\/\/[^/\s]+)\/metrics/.exec(log);
	if (!found) throw new Error('no metrics line in the log');
	return found[1]!;
}

/** Polls an asynchronous probe until it gives a value (waitFor takes synchronous ones). */
export async function eventually<T>(
	probe: () => Promise<T | undefined>,
	{
		timeout = 10_000,
		interval = 50,
		what = 'condition',
	}: {timeout?: number; interval?: number; what?: string} = {},
): Promise<T> {
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, interval));
	}
}
