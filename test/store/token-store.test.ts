// Bot access tokens in every store backend: only hashes are kept, a token
// belongs to one account, revocation is per account, removal of the account
// takes its tokens along.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {issueToken, parseToken, tokenMatches} from '../../server/auth/bot-tokens.js';
import {NoSuchUserError, type AccountStore} from '../../server/store/account-store.js';
import {deriveVerifier} from '../../source/protocol/scram.js';
import {
	mysqlBackend,
	reportUnreachable,
	sqliteBackend,
	uniqueName,
	type Backend,
	type Unreachable,
} from './backends.js';

const backends: Array<Backend | Unreachable> = [await sqliteBackend(), await mysqlBackend()];
const verifier = await deriveVerifier('a password');

test('a token is 32 random bytes after an id; only its hash is needed to check it', () => {
	const issued = issueToken();
	assert.match(issued.token, /^parley_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
	const presented = parseToken(issued.token);
	assert.ok(presented);
	assert.equal(presented.id, issued.id);
	assert.ok(tokenMatches(presented.hash, issued.hash));
	assert.equal(issued.hash.length, 32);
	assert.ok(
		!issued.hash.toString('base64url').includes(issued.token.slice(-43)),
		'the hash is not the secret',
	);
	// One changed character of the secret, a truncated or padded token: refused.
	// The last character holds 4 bits of the secret and 2 unused ones: flip a
	// used bit (a different secret), then an unused one (not canonical: refused).
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	const lastValue = alphabet.indexOf(issued.token.at(-1)!);
	const changed = parseToken(`${issued.token.slice(0, -1)}${alphabet[lastValue ^ 0b100]}`);
	assert.ok(changed && !tokenMatches(changed.hash, issued.hash));
	assert.equal(parseToken(`${issued.token.slice(0, -1)}${alphabet[lastValue ^ 0b1]}`), undefined);
	assert.equal(parseToken(issued.token.slice(0, -1)), undefined);
	assert.equal(parseToken(`${issued.token}A`), undefined);
	assert.equal(parseToken(`x${issued.token}`), undefined);
	assert.notEqual(issueToken().token, issued.token);
});

for (const backend of backends) {
	if ('unreachable' in backend) {
		reportUnreachable('mysql token store', backend);
		continue;
	}
	describe(`${backend.name} token store`, () => {
		let store: AccountStore;
		before(async () => {
			store = await backend.open();
		});
		after(async () => {
			await store.close();
			await backend.cleanup();
		});

		test('create, find, list, touch and revoke tokens of one account', async () => {
			const name = uniqueName('Bot');
			const other = uniqueName('other');
			await store.createUser(name, verifier);
			await store.createUser(other, verifier);
			const first = issueToken();
			const second = issueToken();
			await store.createToken(name.toUpperCase(), {
				id: first.id,
				label: 'ci',
				hash: first.hash,
				createdAt: 1000,
			});
			await store.createToken(name, {
				id: second.id,
				label: 'déploiement',
				hash: second.hash,
				createdAt: 2000,
			});

			assert.deepEqual(await store.findToken(first.id), {user: name, hash: first.hash});
			assert.deepEqual(await store.listTokens(name.toLowerCase()), [
				{id: first.id, label: 'ci', createdAt: 1000, lastUsedAt: undefined},
				{id: second.id, label: 'déploiement', createdAt: 2000, lastUsedAt: undefined},
			]);
			await store.touchToken(second.id, 5000);
			assert.equal((await store.listTokens(name))[1]?.lastUsedAt, 5000);
			assert.deepEqual(await store.listTokens(other), []);

			assert.equal(await store.revokeToken(other, first.id), false, 'another account cannot revoke it');
			assert.ok(await store.findToken(first.id));
			assert.equal(await store.revokeToken(name, first.id), true);
			assert.equal(await store.findToken(first.id), undefined);
			assert.equal(await store.revokeToken(name, first.id), false);
			assert.deepEqual(
				(await store.listTokens(name)).map((t) => t.id),
				[second.id],
			);
		});

		test('tokens need an existing account and go with it', async () => {
			const issued = issueToken();
			await assert.rejects(
				store.createToken(uniqueName('nobody'), {id: issued.id, label: '', hash: issued.hash, createdAt: 1}),
				NoSuchUserError,
			);
			assert.equal(await store.findToken(issued.id), undefined);
			const name = uniqueName('gone');
			await store.createUser(name, verifier);
			await store.createToken(name, {id: issued.id, label: '', hash: issued.hash, createdAt: 1});
			assert.ok(await store.removeUser(name));
			assert.equal(await store.findToken(issued.id), undefined, 'removed with the account');
			await store.createUser(name, verifier);
			assert.deepEqual(await store.listTokens(name), [], 'a new account of that name starts without tokens');
		});

		test('injection-shaped ids and labels are only data', async () => {
			const name = uniqueName('inj');
			await store.createUser(name, verifier);
			assert.equal(await store.findToken("' OR '1'='1"), undefined);
			assert.equal(await store.revokeToken(name, "' OR '1'='1"), false);
			const issued = issueToken();
			const label = "x'); DROP TABLE parley_tokens; --";
			await store.createToken(name, {id: issued.id, label, hash: issued.hash, createdAt: 3});
			assert.equal((await store.listTokens(name))[0]?.label, label);
		});
	});
}
