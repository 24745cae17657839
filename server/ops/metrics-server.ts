// The operator's HTTP endpoint: /metrics in the Prometheus text format, and
// /healthz: 200 "ok" while the store answers, 503 when it does not (or the
// server is shutting down), so a load balancer sends newcomers elsewhere.
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import type {Registry} from 'prom-client';

export type Health = {ok: true} | {ok: false; reason: string};

export interface MetricsServerOptions {
	host: string;
	port: number;
	registry: Registry;
	health: () => Promise<Health>;
}

export interface MetricsServer {
	readonly host: string;
	readonly port: number;
	close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
	const server = http.createServer((request, response) => {
		const path = new URL(request.url ?? '/', 'http://localhost').pathname;
		const answer = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
			response.writeHead(status, {'content-type': type, 'cache-control': 'no-store'});
			response.end(request.method === 'HEAD' ? undefined : body);
		};
		if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'GET only\n');
		if (path === '/metrics') {
			options.registry.metrics().then(
				(text) => answer(200, text, options.registry.contentType),
				(error: Error) => answer(500, `${error.message}\n`),
			);
			return;
		}
		if (path === '/healthz') {
			options.health().then(
				(health) => (health.ok ? answer(200, 'ok\n') : answer(503, `${health.reason}\n`)),
				(error: Error) => answer(503, `${error.message}\n`),
			);
			return;
		}
		answer(404, 'see /metrics and /healthz\n');
	});
	// Scrapers keep connections alive; they must not hold a shutdown up.
	server.keepAliveTimeout = 5000;
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port, options.host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	return {
		host: options.host,
		port: (server.address() as AddressInfo).port,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

/** The store's health: it answers a ping within `timeoutMs`. */
export async function storeHealth(ping: () => Promise<void>, timeoutMs: number): Promise<Health> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<Health>((resolve) => {
		timer = setTimeout(
			() => resolve({ok: false, reason: `store did not answer within ${timeoutMs} ms`}),
			timeoutMs,
		);
	});
	try {
		return await Promise.race([
			ping().then(
				(): Health => ({ok: true}),
				(error: Error): Health => ({ok: false, reason: `store unreachable: ${error.message}`}),
			),
			late,
		]);
	} finally {
		clearTimeout(timer);
	}
}
