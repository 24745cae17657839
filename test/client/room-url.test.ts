// Room addresses with a room on the server: tcp://HOST:PORT/#name, as typed,
// URL-encoded (/%23name) or bare (/name); no room is the server's default.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {formatRoomUrl, parseRoomUrl, RoomUrlError} from '../../source/client/room-url.js';
import {createTransport} from '../../source/client/create-room-client.js';

describe('room URLs', () => {
	it('reads the room in every spelling and keeps addresses without one as they were', () => {
		for (const text of [
			'tcp://chat:7000/#Dev',
			'tcp://chat:7000/%23Dev',
			'tcp://chat:7000/Dev',
			'tcp://chat:7000#Dev',
		])
			assert.deepEqual(parseRoomUrl(text), {transport: 'tcp', host: 'chat', port: 7000, room: '#Dev'}, text);
		assert.deepEqual(parseRoomUrl('udp://[::1]:7667/#dév'), {
			transport: 'udp',
			host: '::1',
			port: 7667,
			room: '#dév',
		});
		assert.deepEqual(parseRoomUrl('tcp://chat:7000/'), {transport: 'tcp', host: 'chat', port: 7000});
		assert.deepEqual(parseRoomUrl('udp://chat'), {transport: 'udp', host: 'chat', port: 7667});
	});

	it('round-trips through formatRoomUrl', () => {
		for (const text of [
			'tcp://chat:7000/#Dev',
			'udp://[::1]:7667/#dév',
			'tcp://chat:7000',
			'udp://10.0.0.1:9/#a.b-c_d',
		])
			assert.equal(formatRoomUrl(parseRoomUrl(text)), text);
		assert.equal(formatRoomUrl(parseRoomUrl('tcp://chat:7000/%23ops')), 'tcp://chat:7000/#ops');
	});

	it('takes several servers of one cluster, comma-separated, for tcp:// rooms', () => {
		assert.deepEqual(parseRoomUrl('tcp://h1:7000,h2,[::1]:7002/#general'), {
			transport: 'tcp',
			host: 'h1',
			port: 7000,
			room: '#general',
			alternates: [
				{host: 'h2', port: 7668},
				{host: '::1', port: 7002},
			],
		});
		const text = 'tcp://h1:7000,h2:7668,[::1]:7002/#general';
		assert.equal(formatRoomUrl(parseRoomUrl(text)), text);
		assert.equal(createTransport(text).url, text);
		for (const bad of ['udp://h1:7000,h2:7001', 'tcp://h1:7000,,h2', 'tcp://h1:7000,h2:x'])
			assert.throws(() => parseRoomUrl(bad), RoomUrlError, bad);
	});

	it('refuses room names the rules refuse', () => {
		for (const text of [
			'tcp://chat:7000/#a b',
			'tcp://chat:7000/a/b',
			`tcp://chat:7000/#${'x'.repeat(51)}`,
			'tcp://chat:7000/?x=1',
		])
			assert.throws(() => parseRoomUrl(text), RoomUrlError, text);
	});

	it('gives transports the room, and their URLs say it', () => {
		const tcp = createTransport('tcp://chat:7000/%23dev');
		assert.equal(tcp.room, '#dev');
		assert.equal(tcp.url, 'tcp://chat:7000/#dev');
		const udp = createTransport('udp://chat:7667/#dev');
		assert.equal(udp.room, '#dev');
		assert.equal(udp.url, 'udp://chat:7667/#dev');
		assert.equal(udp.sibling?.('#ops').url, 'udp://chat:7667/#ops');
		assert.equal(createTransport('tcp://chat:7000').url, 'tcp://chat:7000');
	});
});
