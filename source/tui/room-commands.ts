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
import {runFileAction} from './file-actions.js';
import {needsConfirmation} from './paste-policy.js';
import {FOLLOWING, type RoomTab} from './room-tab.js';
import {runCommand} from './run-command.js';
import type {TransferBoard} from './transfers.js';
import type {Workspace} from './workspace.js';

export interface RoomCommandsContext {
	readonly workspace: Workspace;
	readonly opener: RoomOpener | undefined;
	readonly quit: () => void;
	readonly search: (tab: RoomTab, query: string) => void;
	/** The settings /reload, /ignore and /unignore change; without them those commands say so. */
	readonly config?: ConfigStore | undefined;
	/** File transfers under way; without it the file commands say they cannot run here. */
	readonly transfers?: TransferBoard | undefined;
}

export interface RoomCommands {
	/** Enter: sends the input line (a multi-line draft as one message); a draft of many lines asks first unless `confirmed`. */
	sendDraft(tab: RoomTab, confirmed?: boolean): void;
	/** Runs a /command typed where no message can be sent yet (the nick prompt). */
	runLine(tab: RoomTab, line: string): void;
	/** Opens `room` on `origin`'s server as /join #name does (the /list picker's Enter). */
	joinRoom(origin: RoomTab, room: string): void;
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

export function roomCommands({
	workspace,
	opener,
	quit,
	search,
	config,
	transfers,
}: RoomCommandsContext): RoomCommands {
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

	const closeTab = (tab: RoomTab, how = 'left'): void => {
		if (!workspace.tabs.includes(tab)) return;
		if (workspace.tabs.length === 1) {
			quit(); // nothing would be left to show
			return;
		}
		void workspace.close(tab);
		workspace.active?.notice(`${how} ${tab.name} (${tab.client.url})`);
	};

	const closeRoom = (): void => {
		const tab = workspace.active;
		if (tab !== undefined) closeTab(tab);
	};

	/** /join #name, and Enter in the /list picker: the room on `origin`'s server, in a tab of its own. */
	const joinRoom = (origin: RoomTab, room: string): void => {
		const open = workspace.findRoom(origin, room);
		if (open !== undefined) {
			workspace.activate(workspace.tabs.indexOf(open));
			if (open.closedForGood) open.reconnect();
			else open.notice(`${open.name} is open in this tab already`);
			return;
		}
		const opened = workspace.openSibling(origin, room);
		if (typeof opened === 'string') origin.error(opened);
	};

	/** /part [#name] [reason]: leaves for good (where the room can), then closes the tab. */
	const partRoom = (origin: RoomTab, room: string | undefined, reason: string | undefined): void => {
		const tab = room === undefined ? origin : workspace.findRoom(origin, room);
		if (tab === undefined) {
			origin.error(`${room} is not open on this server`);
			return;
		}
		const {client} = tab;
		if (client.part === undefined) {
			closeTab(tab);
			return;
		}
		tab.notice(`leaving ${tab.name} for good…`);
		client
			.part(reason)
			.catch((error: unknown) => origin.error(`could not part ${tab.name}: ${errorMessage(error)}`))
			.finally(() => closeTab(tab, 'parted'));
	};

	/** /search TEXT: the server's stored history where it can search it, else this screen's log. */
	const searchRoom = (tab: RoomTab, query: string): void => {
		if (query !== '' && tab.client.search?.(query) === true) {
			tab.setScroll(FOLLOWING);
			tab.notice(`searching the stored history of ${tab.name} for "${query}"…`);
			return;
		}
		search(tab, query);
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
		if (command.kind === 'file') {
			if (transfers === undefined) tab.error('this screen cannot transfer files');
			else runFileAction(command.file, tab, transfers);
			return;
		}
		runCommand(command, {
			client: tab.client,
			notice: (text) => tab.notice(text),
			error: (text) => tab.error(text),
			clearLog: () => tab.clearLog(),
			quit,
			search: (query) => searchRoom(tab, query),
			connect: openRoom,
			closeRoom,
			joinRoom: (room) => joinRoom(tab, room),
			partRoom: (room, reason) => partRoom(tab, room, reason),
			reconnect: () => tab.reconnect(),
			switchTo,
			...(config === undefined ? {} : settingsCommands(config, tab)),
			setAway: (text) => workspace.setAway(text),
		});
	};

	return {
		runLine: submit,
		joinRoom,
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
