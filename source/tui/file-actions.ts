// Runs the file commands in a room tab: /send and /get start transfers on the
// board (their bars show under the log), /files lists, /cancel stops the
// newest, /overwrite answers a /get that found its target taken.

import {homedir} from 'node:os';
import path from 'node:path';
import {describeSharedFile} from '../client/file-transfer.js';
import {formatBytes} from '../util/format-bytes.js';
import {errorMessage} from '../util/error-message.js';
import type {FileAction} from './file-command-specs.js';
import type {RoomTab} from './room-tab.js';
import type {TransferBoard} from './transfers.js';

export const UDP_NO_FILES = 'file transfer needs a TCP room';

const expand = (file: string): string =>
	path.resolve(file === '~' ? homedir() : file.startsWith('~/') ? path.join(homedir(), file.slice(2)) : file);

export function runFileAction(file: FileAction, tab: RoomTab, board: TransferBoard): void {
	if (file.action === 'cancel') {
		if (!board.cancelNewest(tab)) tab.notice('no file transfer to cancel here');
		return;
	}
	if (file.action === 'overwrite') {
		if (!board.answer(tab, true)) tab.notice('nothing is waiting for /overwrite');
		return;
	}
	const {client} = tab;
	if (client.transport === 'udp') {
		tab.error(UDP_NO_FILES);
		return;
	}
	const files = client.files?.();
	if (!files) {
		tab.error(
			client.state === 'connected'
				? 'this server does not offer file transfer'
				: `not connected to ${client.url}`,
		);
		return;
	}
	switch (file.action) {
		case 'files':
			files.list().then(
				(list) => {
					if (list.length === 0) tab.notice('no files shared here yet');
					for (const shared of list) tab.notice(describeSharedFile(shared, tab.status.nick));
				},
				(error: unknown) => tab.error(`/files: ${errorMessage(error)}`),
			);
			return;
		case 'send': {
			const transfer = files.upload(expand(file.path), file.to === undefined ? {} : {to: file.to});
			board.add(tab, transfer);
			transfer.result.then(
				(shared) => tab.notice(`sent ${shared.name} (${formatBytes(shared.size)}): /get ${shared.id}`),
				(error: unknown) => tab.error(`/send ${transfer.name}: ${errorMessage(error)}`),
			);
			return;
		}
		case 'get': {
			const dest = expand(file.dest ?? '.');
			const transfer = files.download(file.id, dest, async (target) => {
				tab.notice(`${target} exists: /overwrite replaces it, /cancel keeps it`);
				return board.ask(tab);
			});
			board.add(tab, transfer);
			transfer.result.then(
				(saved) => tab.notice(`saved ${saved} (SHA-256 checked)`),
				(error: unknown) => tab.error(`/get ${file.id}: ${errorMessage(error)}`),
			);
			return;
		}
	}
}
