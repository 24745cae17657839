// Loaded into a server under test (node --expose-gc --import …/memory-probe.js
// …/parley.js serve): on SIGUSR2 it collects garbage to the end and prints its
// memory as one line on stderr. So bench/idle-connections.ts measures the
// stock server's memory per connection "after GC settles" without a special
// build; the server itself does not know it is there.
import process from 'node:process';

const collect = (globalThis as {gc?: () => void}).gc;

process.on('SIGUSR2', () => {
	// Several passes: what the first frees may hold the last references to more.
	for (let pass = 0; pass < 3; pass++) collect?.();
	const {rss, heapUsed, heapTotal, external, arrayBuffers} = process.memoryUsage();
	process.stderr.write(
		`parley-memory ${JSON.stringify({rss, heapUsed, heapTotal, external, arrayBuffers, collected: collect !== undefined})}\n`,
	);
});
