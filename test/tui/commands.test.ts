import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {COMMANDS, helpLines, parseInput} from '../../source/tui/commands.js';

describe('command parsing', () => {
	it('sends plain text as a message, as typed', () => {
		assert.deepEqual(parseInput('hello  world '), {kind: 'say', text: 'hello  world '});
		assert.deepEqual(parseInput('   '), {kind: 'none'});
	});

	it('sends "//text" as a message starting with a slash', () => {
		assert.deepEqual(parseInput('//etc/passwd is a file'), {kind: 'say', text: '/etc/passwd is a file'});
	});

	it('parses /nick and checks the nick', () => {
		assert.deepEqual(parseInput('/nick bob'), {kind: 'nick', nick: 'bob'});
		assert.deepEqual(parseInput('/NICK  bob '), {kind: 'nick', nick: 'bob'});
		assert.deepEqual(parseInput('/nick'), {kind: 'invalid', message: 'usage: /nick NEW'});
		const bad = parseInput('/nick bad*nick');
		assert.ok(bad.kind === 'invalid' && bad.message.includes('letters, digits'), JSON.stringify(bad));
		assert.equal(parseInput('/nick two words').kind, 'invalid');
	});

	it('parses /msg NICK text, keeping the text as typed', () => {
		assert.deepEqual(parseInput('/msg carol hi  there'), {kind: 'direct', nick: 'carol', text: 'hi  there'});
		assert.deepEqual(parseInput('/dm carol x'), {kind: 'direct', nick: 'carol', text: 'x'});
		assert.deepEqual(parseInput('/msg carol'), {kind: 'invalid', message: 'usage: /msg NICK TEXT'});
		assert.deepEqual(parseInput('/msg carol   '), {kind: 'invalid', message: 'usage: /msg NICK TEXT'});
		assert.deepEqual(parseInput('/msg'), {kind: 'invalid', message: 'usage: /msg NICK TEXT'});
	});

	it('parses /me, /who, /clear, /quit and /exit', () => {
		assert.deepEqual(parseInput('/me waves'), {kind: 'action', text: 'waves'});
		assert.equal(parseInput('/me').kind, 'invalid');
		assert.deepEqual(parseInput('/who'), {kind: 'who'});
		assert.equal(parseInput('/who everyone').kind, 'invalid');
		assert.deepEqual(parseInput('/clear'), {kind: 'clear'});
		assert.deepEqual(parseInput('/quit'), {kind: 'quit'});
		assert.deepEqual(parseInput('/exit'), {kind: 'quit'});
	});

	it('parses /connect, /close and /switch', () => {
		assert.deepEqual(parseInput('/connect tcp://chat.example:7668'), {
			kind: 'connect',
			target: 'tcp://chat.example:7668',
		});
		assert.deepEqual(parseInput('/join  work '), {kind: 'connect', target: 'work'});
		assert.deepEqual(parseInput('/connect'), {kind: 'invalid', message: 'usage: /connect URL|NAME'});
		assert.equal(parseInput('/connect a b').kind, 'invalid');
		assert.deepEqual(parseInput('/close'), {kind: 'close'});
		assert.deepEqual(parseInput('/part'), {kind: 'close'});
		assert.deepEqual(parseInput('/switch 2'), {kind: 'switch', number: 2});
		assert.deepEqual(parseInput('/tab 12'), {kind: 'switch', number: 12});
		assert.deepEqual(parseInput('/switch'), {kind: 'invalid', message: 'usage: /switch N'});
		assert.equal(parseInput('/switch 0').kind, 'invalid');
		assert.equal(parseInput('/switch two').kind, 'invalid');
	});

	it('parses /help with and without a topic', () => {
		assert.deepEqual(parseInput('/help'), {kind: 'help'});
		assert.deepEqual(parseInput('/help /msg'), {kind: 'help', topic: 'msg'});
	});

	it('explains unknown commands and a lone slash', () => {
		assert.deepEqual(parseInput('/dance now'), {
			kind: 'invalid',
			message: 'unknown command /dance (see /help)',
		});
		assert.equal(parseInput('/').kind, 'invalid');
	});

	it('lists every command in the help', () => {
		const lines = helpLines();
		for (const spec of COMMANDS)
			assert.ok(
				lines.some((line) => line.includes(spec.usage)),
				spec.name,
			);
		assert.ok(helpLines('exit')[0]?.startsWith('/quit'));
		assert.deepEqual(helpLines('nope'), ['unknown command /nope']);
	});
});
