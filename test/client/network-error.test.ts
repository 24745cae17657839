// Failed connections say what happened in words, on both transports, instead
// of Node's "getaddrinfo ENOTFOUND …" / "connect ECONNREFUSED …".
import assert from 'node:assert/strict';
import net from 'node:net';
import {describe, test} from 'node:test';
import {createRoomClient} from '../../source/client/create-room-client.js';
import {describeNetworkError} from '../../source/client/network-error.js';

const systemError = (code: string, message: string, extra: object = {}): Error =>
	Object.assign(new Error(message), {code, ...extra});

async function connectError(url: string): Promise<string> {
	const client = createRoomClient(url, {
		tcp: {confirmNewHost: async () => false, connectTimeoutMs: 5000},
	});
	try {
		await client.connect('alice', 'secret-password', {register: false});
		assert.fail('connected to a room that cannot be there');
	} catch (error) {
		return (error as Error).message;
	} finally {
		await client.close();
	}
}

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

describe('network errors in words', () => {
	test('system error codes map to sentences; unknown ones keep their message', () => {
		const notFound = systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND nosuchhost.invalid', {
			hostname: 'nosuchhost.invalid',
		});
		assert.equal(describeNetworkError(notFound), 'no such host nosuchhost.invalid');
		assert.equal(
			describeNetworkError(systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')),
			'connection refused (no server at that address)',
		);
		assert.equal(
			describeNetworkError(systemError('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.1:1'), '10.0.0.1'),
			'host 10.0.0.1 unreachable',
		);
		assert.equal(describeNetworkError(systemError('EWHATEVER', 'odd')), 'odd');
	});

	for (const transport of ['udp', 'tcp'] as const) {
		test(`${transport}: an unknown host is "no such host"`, async () => {
			const message = await connectError(`${transport}://nosuchhost.invalid:7667`);
			assert.match(message, /no such host nosuchhost\.invalid/);
			assert.doesNotMatch(message, /getaddrinfo|ENOTFOUND/);
		});
	}

	test('tcp: a port nobody listens on is "connection refused"', async () => {
		const message = await connectError(`tcp://127.0.0.1:${await closedPort()}`);
		assert.match(message, /connection refused \(no server at that address\)/);
		assert.doesNotMatch(message, /ECONNREFUSED/);
	});
});
