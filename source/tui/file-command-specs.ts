// The file transfer commands (/send, /get, /files, /cancel, /overwrite) as rows
// of the command table; file-actions.ts runs them.

import {usageError} from '../client/chat-line.js';
import type {CommandSpec} from './commands.js';

export type FileAction =
	| {action: 'send'; path: string; to?: string}
	| {action: 'get'; id: string; dest?: string}
	| {action: 'files'}
	| {action: 'cancel'}
	| {action: 'overwrite'};

export const FILE_COMMANDS: readonly CommandSpec[] = [
	{
		name: 'send',
		aliases: ['share'],
		usage: '/send [@NICK] PATH',
		help: 'share a file with the room (TCP rooms), or with one member',
		parse(args) {
			let rest = args.trim();
			let to: string | undefined;
			const target = /^@(\S+)\s+/u.exec(rest);
			if (target) {
				to = target[1];
				rest = rest.slice(target[0].length).trim();
			}
			if (rest === '') return usageError(this);
			return {kind: 'file', file: {action: 'send', path: rest, ...(to === undefined ? {} : {to})}};
		},
	},
	{
		name: 'get',
		aliases: [],
		usage: '/get ID [DEST]',
		help: 'download a shared file (SHA-256 checked) into DEST (default: the current directory)',
		parse(args) {
			const [id, ...dest] = args.trim().split(/\s+/u);
			if (id === undefined || id === '') return usageError(this);
			const into = dest.join(' ');
			return {kind: 'file', file: {action: 'get', id, ...(into === '' ? {} : {dest: into})}};
		},
	},
	{
		name: 'files',
		aliases: [],
		usage: '/files',
		help: 'list the files shared in this room',
		parse: () => ({kind: 'file', file: {action: 'files'}}),
	},
	{
		name: 'cancel',
		aliases: [],
		usage: '/cancel',
		help: "stop this room's newest file transfer (nothing partial is kept)",
		parse: () => ({kind: 'file', file: {action: 'cancel'}}),
	},
	{
		name: 'overwrite',
		aliases: [],
		usage: '/overwrite',
		help: 'answer yes when /get asks whether to replace an existing file',
		parse: () => ({kind: 'file', file: {action: 'overwrite'}}),
	},
];
