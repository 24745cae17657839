// What a line typed in a room does once sent: a message, or a /command run
// against the screen (runCommand): open a room (/connect), leave one (/close),
// show another (/switch), search, quit. A long multi-line draft asks first.

import {basename} from 'node:path';
import type {ConfigStore} from '../client/config-store.js';
import {formatRoomUrl, parseRoomUrl} from '../client/room-url.js';
import type {RoomClient} from '../client/types.js';
import {errorMessage} from '../util/error-message.js';
import type {RoomOpener, RoomToOpen} from './ChatScreen.js';
import {parseInput} from './commands.js';
import {needsConfirmation} from './paste-policy.js';
import {FOLLOWING, type RoomTab} from './room-tab.js';
import {runCommand} from './run-command.js';
import type {Workspace} from './workspace.js';

export interface RoomCommandsContext {
	readonly workspace: Workspace;
	readonly opener: RoomOpener | undefined;
	readonly quit: () => void;
	readonly search: (tab: RoomTab, query: string) => void;
	/** The settings /reload, /ignore and /unignore change; without them those commands say so. */
	readonly config?: ConfigStore | undefined;
}

export interface RoomCommands {
	/** Enter: sends the input line (a multi-line draft as one message); a draft of many lines asks first unless `confirmed`. */
	sendDraft(tab: RoomTab, confirmed?: boolean): void;
	/** Runs a /command typed where no message can be sent yet (the nick prompt). */
	runLine(tab: RoomTab, line: string): void;
}

const urlOnly = (target: string): RoomToOpen => ({url: formatRoomUrl(parseRoomUrl(target))});

/** /reload, /ignore and /unignore against the settings, reporting in `tab`. */
function settingsCommands(config: ConfigStore, tab: RoomTab) {
	const file = config.file === undefined ? 'this run' : 'config.toml';
	const setIgnored = (nick: string, ignored: boolean): void => {
		config.setIgnored(nick, ignored).then(
			(changed) => {
				if (!changed) tab.notice(ignored ? `${nick} is ignored already` : `${nick} is not ignored`);
				else if (ignored) tab.notice(`ignoring ${nick}: their messages are hidden (kept in ${file})`);
				else tab.notice(`no longer ignoring ${nick}`);
			},
			(error: unknown) => tab.error(`could not save the ignore list: ${errorMessage(error)}`),
		);
	};
	return {
		reload() {
			try {
				config.reload();
				tab.notice(`reloaded ${basename(config.file ?? '')}`);
			} catch (error) {
				tab.error(`${errorMessage(error)} (the settings in use stay)`);
			}
		},
		ignore(nick: string | undefined) {
			if (nick !== undefined) {
				setIgnored(nick, true);
				return;
			}
			const {ignore} = config.current;
			const hidden = tab.hidden === 0 ? '' : ` (${tab.hidden} hidden in this room)`;
			tab.notice(ignore.length === 0 ? 'nobody is ignored' : `ignoring: ${ignore.join(', ')}${hidden}`);
		},
		unignore: (nick: string) => setIgnored(nick, false),
	};
}

export function roomCommands({workspace, opener, quit, search, config}: RoomCommandsContext): RoomCommands {
	const openRoom = (target: string): void => {
		const here = workspace.active;
		if (opener === undefined) {
			here?.error('this screen cannot open other rooms');
			return;
		}
		let room: RoomToOpen;
		let client: RoomClient;
		try {
			room = (opener.resolve ?? urlOnly)(target);
			const open = workspace.find(room.url);
			if (open !== undefined) {
				workspace.activate(workspace.tabs.indexOf(open));
				if (open.closedForGood) open.reconnect();
				else open.notice(`${room.url} is open in this tab already`);
				return;
			}
			client = opener.create(room.url);
		} catch (error) {
			here?.error(errorMessage(error));
			return;
		}
		// The nick we go by here is the best guess there (a TCP room only prefills it in the form).
		const nick = room.nick ?? here?.status.nick ?? (here?.loginUser || undefined);
		workspace.open(client, {nick, label: room.label});
	};

	const closeRoom = (): void => {
		const tab = workspace.active;
		if (tab === undefined) return;
		if (workspace.tabs.length === 1) {
			quit(); // nothing would be left to show
			return;
		}
		void workspace.close(tab);
		workspace.active?.notice(`left ${tab.name} (${tab.client.url})`);
	};

	const switchTo = (number: number): void => {
		if (!workspace.activate(number - 1))
			workspace.active?.error(`there is no tab ${number} (${workspace.tabs.length} open)`);
	};

	const submit = (tab: RoomTab, line: string): void => {
		const command = parseInput(line);
		if (
			command.kind === 'say' ||
			command.kind === 'action' ||
			command.kind === 'direct' ||
			command.kind === 'clear'
		)
			tab.setScroll(FOLLOWING);
		runCommand(command, {
			client: tab.client,
			notice: (text) => tab.notice(text),
			error: (text) => tab.error(text),
			clearLog: () => tab.clearLog(),
			quit,
			search: (query) => search(tab, query),
			connect: openRoom,
			closeRoom,
			reconnect: () => tab.reconnect(),
			switchTo,
			...(config === undefined ? {} : settingsCommands(config, tab)),
			setAway: (text) => workspace.setAway(text),
		});
	};

	return {
		runLine: submit,
		sendDraft(tab, confirmed = false) {
			const lines = confirmed ? undefined : needsConfirmation(tab.line.value);
			if (lines !== undefined) {
				tab.setSendQuestion({lines});
				return;
			}
			const before = tab.editLine({type: 'submit'});
			submit(tab, before.value);
		},
	};
}
