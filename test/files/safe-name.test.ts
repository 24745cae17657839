// The names downloads are saved under, whatever a server sent: one path part,
// no control or bidi characters, no leading dots, never empty.
import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {safeFileName} from '../../source/client/file-transfer.js';

describe('safeFileName', () => {
	it('keeps ordinary names as they are', () => {
		assert.equal(safeFileName('report 2026.pdf'), 'report 2026.pdf');
		assert.equal(safeFileName('Übersicht – 日本.txt'), 'Übersicht – 日本.txt');
	});

	it('takes the last path part only, and no leading dots', () => {
		assert.equal(safeFileName('../../etc/passwd'), 'passwd');
		assert.equal(safeFileName('..\\..\\windows\\system.ini'), 'system.ini');
		assert.equal(safeFileName('.bashrc'), 'bashrc');
		assert.equal(safeFileName('..'), 'download');
		assert.equal(safeFileName('/'), 'download');
	});

	it('drops control and bidi characters and characters Windows refuses', () => {
		assert.equal(safeFileName('evil\u001b[2J\u202Egnp.exe'), 'evil[2Jgnp.exe');
		assert.equal(safeFileName('a\r\nb\u0000c.txt'), 'abc.txt');
		assert.equal(safeFileName('what?<>|*.txt'), 'what_____.txt');
	});

	it('stays within 200 bytes without cutting a character in half', () => {
		const name = safeFileName('é'.repeat(300));
		assert.ok(Buffer.byteLength(name) <= 200);
		assert.ok(!name.includes('\uFFFD'));
	});
});
