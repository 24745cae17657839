// The UDP room against one hostile host: ghosts from welcomes too large to
// send, one address filling the room from many ports, one address starving
// everyone's fragment reassembly, and rejoins that replay history for free.
import {afterEach, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {
	startUdpRoomServer,
	type UdpRoomServer,
	type UdpRoomServerOptions,
} from '../../server/udp/udp-room-server.js';
import {UdpBot} from '../helpers/udp-bot.js';
import {waitFor} from '../helpers/wait.js';

describe('UDP room against a hostile host', () => {
	let server: UdpRoomServer | undefined;
	const bots: UdpBot[] = [];
	const start = async (options: UdpRoomServerOptions = {}) => {
		server = await startUdpRoomServer(options);
		return server;
	};
	const bot = async (address = '127.0.0.1') => {
		const made = await UdpBot.open(server!.port, address);
		bots.push(made);
		return made;
	};
	/** Waits until the server has read `count` datagrams in all: what was sent so far has been handled. */
	const handled = (count: number) =>
		waitFor(() => server!.stats.received >= count || undefined, {what: `${count} datagrams handled`});
	afterEach(async () => {
		await Promise.all(bots.splice(0).map((b) => b.close()));
		await server?.close();
		server = undefined;
	});

	it('refuses a join whose welcome would be too large without leaving a ghost member', async () => {
		const room = await start({maxMembersPerAddress: 1000, helloPerMinute: 100_000});
		// 32 four-byte characters (CJK Extension B: NFKC leaves them distinct) per nick.
		const nick = (i: number) =>
			Array.from({length: 32}, (_, j) => String.fromCodePoint(0x20000 + i * 32 + j)).join('');
		const welcomed: UdpBot[] = [];
		let refused: {bot: UdpBot; nick: string; code: unknown} | undefined;
		for (let i = 0; i < 256 && !refused; i++) {
			const b = await bot();
			const answer = await b.join(nick(i));
			if (answer.t === 'welcome') welcomed.push(b);
			else refused = {bot: b, nick: nick(i), code: answer.code};
		}
		assert.ok(refused, 'the member list outgrew a welcome before the room filled');
		assert.equal(refused.code, 'room-full');
		assert.ok(welcomed.length > 150, `${welcomed.length} members fit`);
		assert.equal(room.room.size, welcomed.length, 'the refused joiner is not a member');

		// One member leaves: the refused nick is free and its owner gets in.
		welcomed[0]!.send({t: 'leave'});
		await waitFor(() => room.room.size === welcomed.length - 1 || undefined, {what: 'the leave'});
		const retry = await refused.bot.join(refused.nick);
		assert.equal(retry.t, 'welcome', `the retry got ${JSON.stringify(retry).slice(0, 200)}`);
		assert.equal(room.room.size, welcomed.length);
	});

	it('caps the members one address may hold, so another host still gets in', async () => {
		const room = await start({maxMembers: 62});
		const answers = [];
		for (let i = 0; i < 62; i++) answers.push(await (await bot('127.0.0.1')).join(`bot${i}`));
		const admitted = answers.filter((a) => a.t === 'welcome').length;
		assert.equal(admitted, 8, 'eight members from one address by default');
		const refusal = answers.find((a) => a.t === 'error');
		assert.equal(refusal?.code, 'room-full');
		assert.match(String(refusal?.message), /too many members from your address \(at most 8\)/);

		const honest = await (await bot('127.0.0.2')).join('honest');
		assert.equal(honest.t, 'welcome');
		assert.equal(room.room.size, 9);
	});

	it("keeps an honest host's fragmented messages whole while another floods unfinished ones", async () => {
		const room = await start({
			maxMembersPerAddress: 16,
			reassemblyBytes: 128 * 1024,
			reassemblyBytesPerAddress: 48 * 1024,
			limits: {ratePerSecond: 100, burst: 100},
		});
		const attackers: UdpBot[] = [];
		for (let i = 0; i < 3; i++) {
			const a = await bot('127.0.0.1');
			assert.equal((await a.join(`flood${i}`)).t, 'welcome');
			attackers.push(a);
		}
		const honest = await bot('127.0.0.2');
		assert.equal((await honest.join('honest')).t, 'welcome');

		// Unfinished sets: 23 of 24 fragments under ever-new ids, round-robin over the attackers.
		let nextId = 1;
		let sent = room.stats.received;
		const flood = async (datagrams: number) => {
			for (let n = 0; n < datagrams; n++) {
				const attacker = attackers[n % attackers.length]!;
				const id = nextId + Math.floor(n / (23 * attackers.length));
				const header = Buffer.alloc(7);
				header[0] = 0x02;
				header.writeUInt32BE(id, 1);
				header[5] = Math.floor(n / attackers.length) % 23;
				header[6] = 24;
				attacker.sendRaw(Buffer.concat([header, Buffer.alloc(1193, 0x61)]));
				sent++;
				// Paced, so the server's socket buffer never overflows and drops anyone's datagrams.
				if (n % 40 === 39) await handled(sent);
			}
			nextId += Math.ceil(datagrams / (23 * attackers.length)) + 1;
			await handled(sent);
		};
		await flood(400);

		const texts = Array.from({length: 10}, (_, i) => `${i} ${'honest words '.repeat(200)}`);
		for (const [i, text] of texts.entries()) {
			const fragments = honest.encode({t: 'say', ref: `h${i}`, text});
			assert.equal(fragments.length, 3);
			for (const fragment of fragments) {
				honest.sendRaw(fragment);
				sent++;
				await handled(sent);
				await flood(200); // the flood goes on between every two fragments
			}
		}
		for (const text of texts)
			await honest.waitFor((m) => m.t === 'msg' && m.text === text, `the echo of "${text.slice(0, 8)}…"`);
	});

	it('does not replay history again and again to a host that rejoins with since=0', async () => {
		const room = await start({limits: {ratePerSecond: 1000, burst: 1000}});
		const talker = await bot('127.0.0.2');
		await talker.join('talker');
		for (let i = 0; i < 300; i++) {
			talker.send({t: 'say', ref: `r${i}`, text: `message number ${i} `.repeat(4)});
			if (i % 20 === 19) await handled(room.stats.received + 20);
		}
		await waitFor(() => room.room.latestSeq >= 301 || undefined, {what: 'the history posted'});

		const attacker = await bot('127.0.0.1');
		await attacker.join('attacker');
		const [bytesIn, bytesOut] = [room.stats.receivedBytes, room.stats.sentBytes];
		let sent = room.stats.received;
		for (let i = 0; i < 300; i++) {
			attacker.send({t: 'hello', nick: 'attacker', since: 0, k: attacker.cookie});
			sent++;
			if (i % 20 === 19) await handled(sent);
		}
		await handled(sent); // every answer is sent synchronously while its hello is handled

		const ratio = (room.stats.sentBytes - bytesOut) / (room.stats.receivedBytes - bytesIn);
		assert.ok(ratio < 10, `bytes out/in ${ratio.toFixed(1)}×`);
		assert.ok(room.stats.dropped['hello-throttled']! >= 200, 'rejoins beyond the per-address rate refused');
		assert.ok(
			room.room.stats.replaysThrottled >= 20,
			`${room.room.stats.replaysThrottled} replays throttled`,
		);
		// Sent while the hellos were handled, but a datagram still has to arrive: wait for it.
		await attacker.waitFor(
			(m) => m.t === 'error' && m.code === 'rate-limited' && typeof m.retry_after_ms === 'number',
			'the refused rejoins told when to retry',
		);

		// Another host rejoining with since still gets its replay.
		const returning = await bot('127.0.0.3');
		const since = room.room.latestSeq - 10;
		await returning.join('returning', {since});
		await returning.waitFor((m) => m.seq === since + 1, 'the replay');
	});
});
