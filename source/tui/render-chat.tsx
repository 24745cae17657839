// Starts the chat UI on the real terminal, in the alternate screen, and makes
// sure the terminal is given back however the process ends.

import {render, type Instance, type RenderOptions} from 'ink';
import type {RoomClient} from '../client/types.js';
import {ChatScreen, type ChatScreenProps, type RoomOpener, type RoomSpec} from './ChatScreen.js';
import {createBell} from './mentions.js';
import {colourlessStream} from './no-colour.js';
import {MouseInput} from './mouse.js';
import {MouseReporting} from './MouseReporting.js';
import {createNotifier} from './notify.js';

/** The screen's own settings (see ChatScreenProps), except that the bell is a flag here: this module makes it. */
export interface RenderChatOptions
	extends Pick<
		ChatScreenProps,
		| 'nick'
		| 'password'
		| 'opener'
		| 'trust'
		| 'scrollbackCap'
		| 'showMembers'
		| 'attachLog'
		| 'notify'
		| 'onClose'
		| 'config'
	> {
	/** Ring the terminal bell when someone names us or sends us a direct message (--bell); with `config`, its `bell` decides, live. */
	readonly bell?: boolean | undefined;
	/** NO_COLOR: no colours on screen at all (bold, dim, inverse stay). */
	readonly noColor?: boolean | undefined;
	readonly stdout?: NodeJS.WriteStream | undefined;
	readonly stdin?: NodeJS.ReadStream | undefined;
	readonly stderr?: NodeJS.WriteStream | undefined;
	/** Wheel scrolls the log, a click on a tab shows it (default true; config `mouse`). */
	readonly mouse?: boolean | undefined;
	/** Overrides Ink's TTY/CI detection (the alternate screen needs interactive mode). */
	readonly interactive?: boolean | undefined;
	/** On an uncaught exception: unmount, print it and exit with status 1 (default true). */
	readonly exitOnFatalError?: boolean | undefined;
}

/** Shows one room (a client) or several (a tab each, the first on screen). */
export function renderChat(
	rooms: RoomClient | readonly RoomSpec[],
	options: RenderChatOptions = {},
): Instance {
	const specs: readonly RoomSpec[] = Array.isArray(rooms)
		? rooms
		: [{client: rooms as RoomClient, nick: options.nick, password: options.password}];
	// Every client, including those /connect opens later, so a crash still leaves every room.
	const clients = new Set(specs.map((spec) => spec.client));
	const {opener} = options;
	const tracked: RoomOpener | undefined =
		opener === undefined
			? undefined
			: {
					...opener,
					create: (url) => {
						const client = opener.create(url);
						clients.add(client);
						return client;
					},
				};
	const stderr = options.stderr ?? process.stderr;
	const terminal = options.stdout ?? process.stdout;
	const stdout = options.noColor === true ? colourlessStream(terminal) : options.stdout;
	const terminalInput = options.stdin ?? process.stdin;
	// Mouse reports are taken out of stdin before Ink reads it (only a terminal sends them).
	const mouse =
		options.mouse !== false && terminalInput.isTTY === true ? new MouseInput(terminalInput) : undefined;
	const stdin = mouse === undefined ? options.stdin : (mouse as unknown as NodeJS.ReadStream);
	const renderOptions: RenderOptions = {
		alternateScreen: true,
		// Ink draws at most maxFps frames a second and holds back a frame that
		// comes sooner: above the 20 a second of arrivals, a key rarely waits.
		maxFps: 60,
		// Ctrl+C is ours: it leaves the room cleanly before exiting.
		exitOnCtrlC: false,
		...(stdout === undefined ? {} : {stdout}),
		...(stdin === undefined ? {} : {stdin}),
		...(options.interactive === undefined ? {} : {interactive: options.interactive}),
		stderr,
	};
	const screen = (
		<ChatScreen
			rooms={specs}
			opener={tracked}
			trust={options.trust}
			scrollbackCap={options.scrollbackCap}
			showMembers={options.showMembers}
			bell={
				options.bell === true || options.config !== undefined
					? createBell(terminal, {enabled: true})
					: undefined
			}
			attachLog={options.attachLog}
			config={options.config}
			notify={options.notify}
			onClose={options.onClose}
			notifier={
				options.notify?.enabled === true
					? createNotifier(options.notify, {
							stream: terminal,
							tmux: (process.env.TMUX ?? '') !== '',
						})
					: undefined
			}
			mouse={mouse}
		/>
	);
	const instance = render(
		mouse === undefined ? screen : <MouseReporting stdout={terminal}>{screen}</MouseReporting>,
		renderOptions,
	);
	if (mouse !== undefined) {
		const detach = (): void => mouse.detach();
		instance.waitUntilExit().then(detach, detach);
	}

	// Ink restores the terminal on normal exit and on signals (signal-exit). An
	// uncaught error would otherwise be printed on the alternate screen and be
	// lost when it closes, so leave the screen first, then report and exit.
	const onFatal = (error: unknown): void => {
		try {
			instance.unmount();
		} catch {
			// The terminal state is best effort from here on.
		}
		stderr.write(`parley: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		for (const client of clients) void client.close().catch(() => undefined);
		process.exit(1);
	};
	if (options.exitOnFatalError !== false) {
		process.on('uncaughtException', onFatal);
		process.on('unhandledRejection', onFatal);
		const detach = (): void => {
			process.off('uncaughtException', onFatal);
			process.off('unhandledRejection', onFatal);
		};
		instance.waitUntilExit().then(detach, detach);
	}
	return instance;
}
