import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {COMMANDS, helpLines, parseInput} from '../../source/tui/commands.js';
import {parseDuration} from '../../source/tui/room-command-specs.js';

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
		assert.deepEqual(parseInput('/leave'), {kind: 'close'});
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

	it('parses /join #room on this server, and /join NAME or URL like /connect', () => {
		assert.deepEqual(parseInput('/join #dev'), {kind: 'join', room: '#dev'});
		assert.deepEqual(parseInput('/join  #Dev.team '), {kind: 'join', room: '#Dev.team'});
		assert.deepEqual(parseInput('/connect #dev'), {kind: 'join', room: '#dev'});
		assert.deepEqual(parseInput('/join tcp://h:1'), {kind: 'connect', target: 'tcp://h:1'});
		assert.deepEqual(parseInput('/join'), {kind: 'invalid', message: 'usage: /join #ROOM|URL|NAME'});
		assert.equal(parseInput('/join #').kind, 'invalid');
		assert.equal(parseInput('/join #a*b').kind, 'invalid');
		assert.equal(parseInput('/join #a #b').kind, 'invalid');
	});

	it('parses /part with an optional room and reason, /list and /topic', () => {
		assert.deepEqual(parseInput('/part'), {kind: 'part'});
		assert.deepEqual(parseInput('/part bye all'), {kind: 'part', reason: 'bye all'});
		assert.deepEqual(parseInput('/part #dev'), {kind: 'part', room: '#dev'});
		assert.deepEqual(parseInput('/part #dev  too noisy '), {kind: 'part', room: '#dev', reason: 'too noisy'});
		assert.equal(parseInput('/part #b*d').kind, 'invalid');
		assert.deepEqual(parseInput('/list'), {kind: 'list'});
		assert.equal(parseInput('/list all').kind, 'invalid');
		assert.deepEqual(parseInput('/topic'), {kind: 'topic'});
		assert.deepEqual(parseInput('/topic  release on Friday '), {kind: 'topic', text: 'release on Friday'});
		assert.deepEqual(parseInput('/names'), {kind: 'who'});
	});

	it('parses the role commands into role requests', () => {
		const role = (name: string, nick: string, value: string) => ({
			kind: 'request',
			name,
			request: {t: 'role', nick, role: value},
		});
		assert.deepEqual(parseInput('/op bob'), role('op', 'bob', 'op'));
		assert.deepEqual(parseInput('/deop bob'), role('deop', 'bob', 'member'));
		assert.deepEqual(parseInput('/voice carol'), role('voice', 'carol', 'voice'));
		assert.deepEqual(parseInput('/devoice carol'), role('devoice', 'carol', 'member'));
		assert.deepEqual(parseInput('/op'), {kind: 'invalid', message: 'usage: /op NICK'});
		assert.equal(parseInput('/op bob carol').kind, 'invalid');
		assert.equal(parseInput('/op b*d').kind, 'invalid');
	});

	it('parses /kick, /ban with a duration and reason, /unban, /bans, /mute, /unmute, /mode and /invite', () => {
		const asks = (line: string) => {
			const command = parseInput(line);
			return command.kind === 'request' ? command.request : command;
		};
		assert.deepEqual(asks('/kick troll'), {t: 'kick', nick: 'troll'});
		assert.deepEqual(asks('/kick troll  spamming links '), {
			t: 'kick',
			nick: 'troll',
			reason: 'spamming links',
		});
		assert.deepEqual(asks('/ban troll'), {t: 'ban', account: 'troll'});
		assert.deepEqual(asks('/ban troll 2h'), {t: 'ban', account: 'troll', duration_ms: 7_200_000});
		assert.deepEqual(asks('/ban troll 7d spam'), {
			t: 'ban',
			account: 'troll',
			duration_ms: 604_800_000,
			reason: 'spam',
		});
		assert.deepEqual(asks('/ban troll spam again'), {t: 'ban', account: 'troll', reason: 'spam again'});
		assert.equal(parseInput('/ban').kind, 'invalid');
		assert.equal(parseInput('/ban bad/account').kind, 'invalid');
		assert.deepEqual(asks('/unban troll'), {t: 'unban', account: 'troll'});
		assert.equal(parseInput('/unban').kind, 'invalid');
		assert.deepEqual(asks('/bans'), {t: 'bans'});
		assert.equal(parseInput('/bans x').kind, 'invalid');
		assert.deepEqual(asks('/mute troll'), {t: 'mute', nick: 'troll'});
		assert.deepEqual(asks('/mute troll 10m'), {t: 'mute', nick: 'troll', duration_ms: 600_000});
		assert.equal(parseInput('/mute troll forever').kind, 'invalid');
		assert.deepEqual(asks('/unmute troll'), {t: 'unmute', nick: 'troll'});
		assert.deepEqual(asks('/mode +i'), {t: 'mode', mode: '+i'});
		assert.deepEqual(asks('/mode -m'), {t: 'mode', mode: '-m'});
		assert.deepEqual(parseInput('/mode +x'), {kind: 'invalid', message: 'usage: /mode +i|-i|+m|-m'});
		assert.deepEqual(asks('/invite carol'), {t: 'invite', nick: 'carol'});
		assert.equal(parseInput('/invite').kind, 'invalid');
	});

	it('reads durations as a number and a unit', () => {
		assert.equal(parseDuration('30s'), 30_000);
		assert.equal(parseDuration('10m'), 600_000);
		assert.equal(parseDuration('2H'), 7_200_000);
		assert.equal(parseDuration('1w'), 604_800_000);
		for (const bad of ['10', 'm', '0m', '1.5h', '-2h', '10 m'])
			assert.equal(parseDuration(bad), undefined, bad);
	});

	it('says in the help that UDP rooms have no moderation, one line per command', () => {
		const lines = helpLines();
		assert.ok(lines.some((line) => line.includes('UDP rooms have no accounts, so no moderation')));
		for (const name of [
			'join',
			'part',
			'list',
			'topic',
			'op',
			'deop',
			'voice',
			'devoice',
			'kick',
			'ban',
			'unban',
			'bans',
			'mute',
			'unmute',
			'mode',
			'invite',
		])
			assert.equal(lines.filter((line) => line.startsWith(`  /${name} `)).length, 1, name);
	});
});
