import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {describe, test} from 'node:test';
import {
	deriveVerifier,
	escapeUsername,
	fakeCredential,
	parseServerFirst,
	saslPrep,
	ScramClient,
	ScramError,
	ScramServer,
	unescapeUsername,
	type ScramCredential,
	type ScramServerOptions,
} from '../../source/protocol/scram.js';

const SECRET = Buffer.from('a server secret that tests share!');

// RFC 7677 section 3
const RFC = {
	username: 'user',
	password: 'pencil',
	clientNonce: 'rOprNGfwEbeRWgbNEkqO',
	serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
	salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
	clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
	serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
	clientFinal:
		'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
	serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function serverFor(
	users: Record<string, ScramCredential>,
	options: Partial<ScramServerOptions> = {},
): ScramServer {
	return new ScramServer({
		lookup: async (name) => users[name],
		serverSecret: SECRET,
		...options,
	});
}

const aliceCredential = deriveVerifier('correct horse');

function rejectsWith(reason: string): (error: unknown) => boolean {
	return (error) => error instanceof ScramError && error.reason === reason;
}

describe('SCRAM-SHA-256', () => {
	test('matches the RFC 7677 test vector exactly', async () => {
		const credential = await deriveVerifier(RFC.password, RFC.salt, 4096);
		const client = new ScramClient({username: RFC.username, password: RFC.password, nonce: RFC.clientNonce});
		const server = serverFor({user: credential}, {nonce: RFC.serverNonce});

		const clientFirst = client.first();
		assert.equal(clientFirst, RFC.clientFirst);
		const serverFirst = await server.first(clientFirst);
		assert.equal(serverFirst, RFC.serverFirst);
		const clientFinal = await client.final(serverFirst);
		assert.equal(clientFinal, RFC.clientFinal);
		const outcome = await server.final(clientFinal);
		assert.deepEqual(outcome, {ok: true, username: 'user', serverFinal: RFC.serverFinal});
		client.verifyServer(outcome.serverFinal);
	});

	test('a full exchange with tls-exporter channel binding succeeds', async () => {
		const binding = randomBytes(32);
		const client = new ScramClient({username: 'alice', password: 'correct horse', channelBinding: binding});
		const server = serverFor({alice: await aliceCredential}, {channelBinding: binding});
		assert.equal(client.mechanism, 'SCRAM-SHA-256-PLUS');
		assert.deepEqual(server.mechanisms, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
		const clientFirst = client.first();
		assert.ok(clientFirst.startsWith('p=tls-exporter,,n=alice,r='));
		const outcome = await server.final(await client.final(await server.first(clientFirst)));
		assert.equal(outcome.ok, true);
		assert.equal(outcome.ok && outcome.username, 'alice');
		client.verifyServer(outcome.serverFinal);
	});

	test('a full exchange without TLS succeeds', async () => {
		const client = new ScramClient({username: 'alice', password: 'correct horse'});
		const server = serverFor({alice: await aliceCredential});
		const outcome = await server.final(await client.final(await server.first(client.first())));
		assert.equal(outcome.ok, true);
		client.verifyServer(outcome.serverFinal);
	});

	test('a wrong password fails with invalid-proof and the client refuses the result', async () => {
		const client = new ScramClient({username: 'alice', password: 'wrong horse'});
		const server = serverFor({alice: await aliceCredential});
		const outcome = await server.final(await client.final(await server.first(client.first())));
		assert.deepEqual(outcome, {ok: false, reason: 'invalid-proof', serverFinal: 'e=invalid-proof'});
		assert.throws(() => client.verifyServer(outcome.serverFinal), rejectsWith('invalid-proof'));
	});

	test('a tampered client proof is rejected', async () => {
		const client = new ScramClient({username: 'alice', password: 'correct horse'});
		const server = serverFor({alice: await aliceCredential});
		const clientFinal = await client.final(await server.first(client.first()));
		const proofAt = clientFinal.indexOf(',p=') + 3;
		const proof = Buffer.from(clientFinal.slice(proofAt), 'base64');
		proof[0] = (proof[0] as number) ^ 1;
		const outcome = await server.final(clientFinal.slice(0, proofAt) + proof.toString('base64'));
		assert.equal(outcome.ok, false);
		assert.equal(outcome.serverFinal, 'e=invalid-proof');
	});

	test('a truncated proof is rejected without throwing', async () => {
		const client = new ScramClient({username: 'alice', password: 'correct horse'});
		const server = serverFor({alice: await aliceCredential});
		const clientFinal = await client.final(await server.first(client.first()));
		const outcome = await server.final(clientFinal.replace(/,p=.*$/, ',p=AAAA'));
		assert.equal(outcome.ok, false);
	});

	test('a client-final replayed against a new server nonce is rejected', async () => {
		const nonce = 'fixedclientnonce';
		const first = new ScramClient({username: 'alice', password: 'correct horse', nonce});
		const firstServer = serverFor({alice: await aliceCredential});
		const recorded = await first.final(await firstServer.first(first.first()));
		assert.equal((await firstServer.final(recorded)).ok, true);

		// An eavesdropper replays both client messages to a fresh session.
		const replayServer = serverFor({alice: await aliceCredential});
		const replayFirst = new ScramClient({username: 'alice', password: 'x', nonce}).first();
		const serverFirst = await replayServer.first(replayFirst);
		const outcome = await replayServer.final(recorded);
		assert.equal(outcome.ok, false);

		// Rewriting r= to the new nonce does not help: the proof covers it.
		const rewriteServer = serverFor({alice: await aliceCredential});
		const rewrittenFirst = await rewriteServer.first(replayFirst);
		const newNonce = parseServerFirst(rewrittenFirst).nonce;
		const rewritten = recorded.replace(/,r=[^,]*,/, `,r=${newNonce},`);
		const rewriteOutcome = await rewriteServer.final(rewritten);
		assert.deepEqual(rewriteOutcome, {ok: false, reason: 'invalid-proof', serverFinal: 'e=invalid-proof'});
		assert.notEqual(parseServerFirst(serverFirst).nonce, newNonce);
	});

	test('the client rejects a bad server signature', async () => {
		const client = new ScramClient({username: 'alice', password: 'correct horse'});
		const server = serverFor({alice: await aliceCredential});
		const outcome = await server.final(await client.final(await server.first(client.first())));
		const signature = Buffer.from(outcome.serverFinal.slice(2), 'base64');
		signature[5] = (signature[5] as number) ^ 0x80;
		assert.throws(
			() => client.verifyServer(`v=${signature.toString('base64')}`),
			rejectsWith('invalid-proof'),
		);
	});

	test('mismatched channel binding data is rejected', async () => {
		// A man in the middle terminates TLS twice, so each side sees different keying material.
		const client = new ScramClient({
			username: 'alice',
			password: 'correct horse',
			channelBinding: randomBytes(32),
		});
		const server = serverFor({alice: await aliceCredential}, {channelBinding: randomBytes(32)});
		const outcome = await server.final(await client.final(await server.first(client.first())));
		assert.deepEqual(outcome, {
			ok: false,
			reason: 'channel-bindings-dont-match',
			serverFinal: 'e=channel-bindings-dont-match',
		});
	});

	test('a c= that contradicts the gs2 header is rejected', async () => {
		const client = new ScramClient({username: 'alice', password: 'correct horse'});
		const server = serverFor({alice: await aliceCredential});
		const clientFinal = await client.final(await server.first(client.first()));
		const forged = clientFinal.replace('c=biws', `c=${Buffer.from('y,,').toString('base64')}`);
		const outcome = await server.final(forged);
		assert.equal(outcome.ok, false);
		assert.equal(outcome.ok || outcome.reason, 'channel-bindings-dont-match');
	});

	test('gs2 header problems are refused at client-first', async () => {
		const binding = randomBytes(32);
		const tlsServer = () => serverFor({}, {channelBinding: binding});
		// 'y' while we offered -PLUS means the offer was stripped: a downgrade.
		await assert.rejects(
			tlsServer().first('y,,n=alice,r=abc'),
			rejectsWith('server-does-support-channel-binding'),
		);
		await assert.rejects(
			tlsServer().first('p=tls-unique,,n=alice,r=abc'),
			rejectsWith('unsupported-channel-binding-type'),
		);
		await assert.rejects(
			serverFor({}).first('p=tls-exporter,,n=alice,r=abc'),
			rejectsWith('channel-binding-not-supported'),
		);
		await assert.rejects(serverFor({}).first('x,,n=alice,r=abc'), rejectsWith('invalid-encoding'));
		await assert.rejects(serverFor({}).first('n,a=bob,n=alice,r=abc'), rejectsWith('other-error'));
		await assert.rejects(
			serverFor({}).first('n,,m=ext,n=alice,r=abc'),
			rejectsWith('extensions-not-supported'),
		);
		await assert.rejects(
			serverFor({}).first('n,,n=al=41ice,r=abc'),
			rejectsWith('invalid-username-encoding'),
		);
		await assert.rejects(serverFor({}).first('n,,r=abc,n=alice'), rejectsWith('invalid-encoding'));
		await assert.rejects(
			serverFor({}, {channelBinding: binding, requireChannelBinding: true}).first('n,,n=alice,r=abc'),
			rejectsWith('channel-binding-not-supported'),
		);
	});

	test('a client that could bind but saw no -PLUS offer says y', () => {
		const client = new ScramClient({
			username: 'a',
			password: 'b',
			channelBinding: randomBytes(32),
			serverOffersPlus: false,
		});
		assert.ok(client.first().startsWith('y,,n=a,r='));
		assert.equal(client.mechanism, 'SCRAM-SHA-256');
	});

	test('an unknown user gets a well-formed server-first and the same failure as a wrong password', async () => {
		const server = serverFor({alice: await aliceCredential});
		const client = new ScramClient({username: 'mallory', password: 'whatever'});
		const serverFirst = await server.first(client.first());
		const parsed = parseServerFirst(serverFirst);
		assert.equal(parsed.salt.length, 16);
		assert.equal(parsed.iterations, 4096);
		const outcome = await server.final(await client.final(serverFirst));
		assert.deepEqual(outcome, {ok: false, reason: 'invalid-proof', serverFinal: 'e=invalid-proof'});
	});

	test('the fake salt is stable per username and secret', async () => {
		const saltFor = async (name: string, options: Partial<ScramServerOptions> = {}): Promise<string> => {
			const client = new ScramClient({username: name, password: 'x'});
			return parseServerFirst(await serverFor({}, options).first(client.first())).salt.toString('base64');
		};
		assert.equal(await saltFor('nobody'), await saltFor('nobody'));
		assert.notEqual(await saltFor('nobody'), await saltFor('somebody'));
		assert.notEqual(
			await saltFor('nobody'),
			await saltFor('nobody', {serverSecret: Buffer.from('another secret')}),
		);
		const lower = {canonicalName: (name: string) => name.toLowerCase()};
		assert.equal(await saltFor('Nobody', lower), await saltFor('nobody', lower));
		assert.deepEqual(fakeCredential(SECRET, 'x').salt, fakeCredential(SECRET, 'x').salt);
	});

	test('the client refuses a server nonce that does not extend its own, or absurd iteration counts', async () => {
		const client = new ScramClient({username: 'a', password: 'b', nonce: 'mine'});
		client.first();
		await assert.rejects(client.final('r=theirs,s=QUJD,i=4096'), rejectsWith('invalid-proof'));
		const greedy = new ScramClient({username: 'a', password: 'b', nonce: 'mine', maxIterations: 10_000});
		greedy.first();
		await assert.rejects(greedy.final('r=mineXYZ,s=QUJD,i=20000'), rejectsWith('other-error'));
		const weak = new ScramClient({username: 'a', password: 'b', nonce: 'mine'});
		weak.first();
		await assert.rejects(weak.final('r=mineXYZ,s=QUJD,i=1000'), rejectsWith('other-error'));
	});

	test('state machines refuse calls out of order', async () => {
		const client = new ScramClient({username: 'a', password: 'b'});
		await assert.rejects(client.final('r=x,s=QUJD,i=4096'), ScramError);
		const server = serverFor({});
		await assert.rejects(server.final('c=biws,r=x,p=AAAA'), ScramError);
	});

	test('deriveVerifier never keeps the password and insists on at least 4096 iterations', async () => {
		const verifier = await deriveVerifier('secret');
		assert.equal(verifier.salt.length, 16);
		assert.equal(verifier.iterations, 4096);
		assert.equal(verifier.storedKey.length, 32);
		assert.equal(verifier.serverKey.length, 32);
		assert.ok(!JSON.stringify(verifier).includes('secret'));
		await assert.rejects(deriveVerifier('secret', undefined, 1000), ScramError);
		assert.equal((await deriveVerifier('secret', undefined, 5000)).iterations, 5000);
	});

	test('usernames escape , and = as the RFC requires', () => {
		assert.equal(escapeUsername('a,b=c'), 'a=2Cb=3Dc');
		assert.equal(unescapeUsername('a=2Cb=3Dc'), 'a,b=c');
		assert.throws(() => unescapeUsername('a=2'), rejectsWith('invalid-username-encoding'));
		const client = new ScramClient({username: 'a,b', password: 'x', nonce: 'n'});
		assert.equal(client.first(), 'n,,n=a=2Cb,r=n');
	});

	test('SASLprep normalises and rejects control characters', async () => {
		assert.equal(saslPrep('\u2168'), 'IX');
		assert.equal(saslPrep('pass\u00ADword'), 'password');
		assert.equal(saslPrep('a\u00A0b'), 'a b');
		assert.throws(() => saslPrep('pass\u0007word'), rejectsWith('invalid-encoding'));
		assert.throws(() => saslPrep('pass\u202Eword'), rejectsWith('invalid-encoding'));
		assert.throws(() => saslPrep(''), rejectsWith('invalid-encoding'));
		// The bidi rule (RFC 3454 section 6), which the old hand-written subset skipped.
		assert.throws(() => saslPrep('\u0627\u0031'), rejectsWith('invalid-encoding'));
		assert.throws(() => saslPrep('a\u0627b'), rejectsWith('invalid-encoding'));
		assert.equal(saslPrep('\u0627\u0031\u0628'), '\u0627\u0031\u0628', 'RandALCat at both ends is fine');
		assert.equal(saslPrep('p\u{1F511}ss'), 'p\u{1F511}ss', 'emoji (unassigned in Unicode 3.2) stay usable');
		// Equivalent spellings of a password verify against each other.
		const composed = await deriveVerifier('caf\u00E9', Buffer.alloc(16));
		const decomposed = await deriveVerifier('cafe\u0301', Buffer.alloc(16));
		assert.deepEqual(composed.storedKey, decomposed.storedKey);
	});
});
