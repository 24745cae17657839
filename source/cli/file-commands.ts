// `parley send-file ROOM PATH` and `parley get-file ROOM ID [DEST]`: file
// transfer for scripts. Progress goes to stderr; send-file prints the file's
// id as its last line on stdout, get-file the path it saved. Any failure
// exits non-zero; an existing file is never overwritten without --overwrite.

import meow from 'meow';
import type {RoomSession} from '../client/room-session.js';
import {TransferError, type Transfer} from '../client/file-transfer.js';
import {formatBytes} from '../util/format-bytes.js';
import {
	COMMON_FLAGS,
	EXIT,
	EXIT_STATUS_HELP,
	ExitError,
	checkInvocation,
	chooseLogin,
	choosePassword,
	commonOptions,
	joinRoom,
	readLines,
	resolveRoomArgument,
	scriptIo,
	usage,
	type ScriptIo,
} from './room-script.js';
import {SELF_REPORTING} from './subcommand-options.js';

const FLAGS = {...COMMON_FLAGS, overwrite: {type: 'boolean', default: false}} as const;

const sendHelp = `
	Usage
	  $ parley send-file ROOM PATH [options]

	Shares the file at PATH with a TCP room (tcp://HOST:PORT/#room or a name from
	rooms.json). Progress goes to standard error; the file's id is printed as the
	last line of standard output (others fetch it with parley get-file ROOM ID).

	Options
	  --user NAME        your account (default: the room's "user" in rooms.json)
	  --password-stdin   the first line of standard input is the password
	                     (without it the password comes from PARLEY_PASSWORD)
	  --accept-new       trust the server's certificate the first time
	  --insecure-plaintext  connect to a server that runs without TLS
	  --help             this help
${EXIT_STATUS_HELP}
	  7  the transfer failed (refused: too big, over quota; cancelled; corrupted)
`;

const getHelp = `
	Usage
	  $ parley get-file ROOM ID [DEST] [options]

	Downloads the shared file ID from a TCP room into DEST: a directory (default:
	the current one), where it is saved under its (sanitised) name, or a file
	path. The SHA-256 is checked; the file appears only when complete. An existing
	file is not overwritten unless --overwrite is given. Prints the saved path.

	Options
	  --user NAME        your account (default: the room's "user" in rooms.json)
	  --password-stdin   the first line of standard input is the password
	                     (without it the password comes from PARLEY_PASSWORD)
	  --accept-new       trust the server's certificate the first time
	  --insecure-plaintext  connect to a server that runs without TLS
	  --overwrite        replace DEST (or the file in it) when it exists
	  --help             this help
${EXIT_STATUS_HELP}
	  7  the transfer failed (no such file, exists, cancelled, corrupted)
`;

const EXIT_TRANSFER = 7;
const KNOWN = new Set([...Object.keys(FLAGS), 'h']);

interface Parsed {
	positional: string[];
	session: RoomSession;
}

async function open(command: string, help: string, argv: string[], io: ScriptIo, count: [number, number]) {
	const cli = meow(help, {importMeta: import.meta, argv, ...SELF_REPORTING, flags: FLAGS});
	if (cli.flags.help) {
		io.stdout.write(help);
		return undefined;
	}
	const [min, max] = count;
	if (cli.input.length < min || cli.input.length > max)
		throw usage(command, `expected ${command === 'send-file' ? 'ROOM PATH' : 'ROOM ID [DEST]'}`);
	const argument = checkInvocation(command, cli.input.slice(0, 1), cli.flags, KNOWN);
	const options = commonOptions(cli.flags, 30);
	const room = await resolveRoomArgument(argument, io.env);
	if (room.transport !== 'tcp') throw new ExitError(EXIT.usage, 'file transfer needs a TCP room');
	const login = chooseLogin(command, room, options);
	const password = await choosePassword(command, room, options, io.env, async () => {
		for await (const line of readLines(io.stdin, 4096)) return line.text;
		return undefined;
	});
	const {session} = await joinRoom({room, login, password, options, stderr: io.stderr, command});
	return {positional: cli.input.slice(1), session, overwrite: cli.flags.overwrite} satisfies Parsed & {
		overwrite: boolean;
	};
}

/** Reports progress on stderr about twice a second. */
function showProgress<T>(transfer: Transfer<T>, io: ScriptIo, command: string): () => void {
	let last = 0;
	return transfer.onProgress((p) => {
		const now = Date.now();
		if (now - last < 500 && p.done < p.total) return;
		last = now;
		const percent = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
		io.stderr.write(
			`parley ${command}: ${transfer.name} ${percent}% ${formatBytes(p.done)} of ${formatBytes(p.total)}` +
				`${p.rate > 0 ? `, ${formatBytes(Math.round(p.rate))}/s` : ''}\n`,
		);
	});
}

function filesOf(session: RoomSession) {
	const files = session.files();
	if (!files) throw new ExitError(EXIT_TRANSFER, 'this server does not offer file transfer');
	return files;
}

async function finish<T>(transfer: Transfer<T>, io: ScriptIo, command: string): Promise<T> {
	const off = showProgress(transfer, io, command);
	const cancel = () => transfer.cancel();
	process.once('SIGINT', cancel);
	process.once('SIGTERM', cancel);
	try {
		return await transfer.result;
	} catch (error) {
		if (error instanceof TransferError) throw new ExitError(EXIT_TRANSFER, error.message);
		throw error;
	} finally {
		off();
		process.off('SIGINT', cancel);
		process.off('SIGTERM', cancel);
	}
}

async function sendFile(argv: string[], io: ScriptIo): Promise<number> {
	const opened = await open('send-file', sendHelp, argv, io, [2, 2]);
	if (!opened) return EXIT.ok;
	try {
		const transfer = filesOf(opened.session).upload(opened.positional[0]!);
		const file = await finish(transfer, io, 'send-file');
		io.stdout.write(`${file.id}\n`);
		return EXIT.ok;
	} finally {
		await opened.session.close();
	}
}

async function getFile(argv: string[], io: ScriptIo): Promise<number> {
	const opened = await open('get-file', getHelp, argv, io, [2, 3]);
	if (!opened) return EXIT.ok;
	try {
		const [id, dest = process.cwd()] = opened.positional as [string, string | undefined];
		const transfer = filesOf(opened.session).download(id, dest, opened.overwrite);
		const saved = await finish(transfer, io, 'get-file');
		io.stdout.write(`${saved}\n`);
		return EXIT.ok;
	} finally {
		await opened.session.close();
	}
}

function runner(command: string, run: (argv: string[], io: ScriptIo) => Promise<number>) {
	return async (argv: string[], streams: Partial<ScriptIo> = {}): Promise<number> => {
		const io = scriptIo(streams);
		try {
			return await run(argv, io);
		} catch (error) {
			const code = error instanceof ExitError ? error.code : EXIT.failure;
			io.stderr.write(`parley ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
			return code;
		}
	};
}

export const runSendFileCommand = runner('send-file', sendFile);
export const runGetFileCommand = runner('get-file', getFile);
