// Starts the chat UI on the real terminal, in the alternate screen, and makes
// sure the terminal is given back however the process ends.

import {render, type Instance, type RenderOptions} from 'ink';
import type {HostTrustPrompter} from '../client/host-trust.js';
import type {RoomClient} from '../client/types.js';
import {ChatScreen} from './ChatScreen.js';

export interface RenderChatOptions {
	/** Join with this nick; without it the UI asks for one. For a room that needs a password: the user name to prefill. */
	readonly nick?: string | undefined;
	/** With `nick`, for a room that needs a password: log in at once instead of showing the login form. */
	readonly password?: string | undefined;
	/** Lets the UI answer when the client meets a server certificate it has never seen. */
	readonly trust?: HostTrustPrompter | undefined;
	readonly scrollbackCap?: number | undefined;
	readonly showMembers?: boolean | undefined;
	readonly stdout?: NodeJS.WriteStream | undefined;
	readonly stdin?: NodeJS.ReadStream | undefined;
	readonly stderr?: NodeJS.WriteStream | undefined;
	/** Overrides Ink's TTY/CI detection (the alternate screen needs interactive mode). */
	readonly interactive?: boolean | undefined;
	/** On an uncaught exception: unmount, print it and exit with status 1 (default true). */
	readonly exitOnFatalError?: boolean | undefined;
}

export function renderChat(client: RoomClient, options: RenderChatOptions = {}): Instance {
	const stderr = options.stderr ?? process.stderr;
	const renderOptions: RenderOptions = {
		alternateScreen: true,
		// Ctrl+C is ours: it leaves the room cleanly before exiting.
		exitOnCtrlC: false,
		...(options.stdout === undefined ? {} : {stdout: options.stdout}),
		...(options.stdin === undefined ? {} : {stdin: options.stdin}),
		...(options.interactive === undefined ? {} : {interactive: options.interactive}),
		stderr,
	};
	const instance = render(
		<ChatScreen
			client={client}
			nick={options.nick}
			password={options.password}
			trust={options.trust}
			scrollbackCap={options.scrollbackCap}
			showMembers={options.showMembers}
		/>,
		renderOptions,
	);

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
		void client.close().catch(() => undefined);
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
