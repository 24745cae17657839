// The input line of a joined room and its keys: editing (line-editor.ts), Tab
// completion, Ctrl+R to search the log, Enter to send, Ctrl+D on an empty line
// to quit; and pastes, which become text or a multi-line draft (paste-policy.ts).
// The screen's own keys (scrolling, tabs, Ctrl+C) are left to the screen.

import {InputLine} from './InputLine.js';
import {commandNames, complete, nickCandidates} from './completion.js';
import {featureActionForKey, lineActionForKey, screenActionForKey} from './key-bindings.js';
import {pastePolicy} from './paste-policy.js';
import type {RoomTab} from './room-tab.js';
import {usePromptKeys, usePromptPastes} from './use-keys.js';

export interface ChatInputProps {
	readonly tab: RoomTab;
	readonly width: number;
	/** Read at key time: whether the line still has the keys (a key earlier in the chunk may have opened a search or shown another room). */
	readonly hasKeys: () => boolean;
	/** Enter: send the draft (or ask first, for a long one). */
	readonly onEnter: () => void;
	/** Ctrl+R: search the log. */
	readonly onSearch: () => void;
	readonly onQuit: () => void;
}

function completeWord(tab: RoomTab, direction: 'forward' | 'backward'): void {
	const candidates = {
		nicks: nickCandidates(tab.status.members, tab.log, tab.status.nick),
		commands: commandNames(),
	};
	const result = complete(tab.line, candidates, tab.completion, direction);
	tab.completion = result.session;
	tab.editLine({type: 'replace', value: result.value, cursor: result.cursor, multiline: true});
}

function paste(tab: RoomTab, text: string): void {
	tab.completion = undefined;
	const decision = pastePolicy(text, {line: tab.line, maxBytes: tab.client.limits.maxTextBytes});
	switch (decision.kind) {
		case 'insert':
			tab.editLine({type: 'insert', text: decision.text});
			return;
		case 'draft':
			// Several lines wait in the input line as one message; Enter sends it.
			tab.editLine({type: 'replace', value: decision.value, cursor: decision.cursor, multiline: true});
			return;
		case 'too-long':
			tab.error(
				`not pasted: ${decision.lines} lines, ${decision.bytes} bytes; a message takes at most ${decision.maxBytes} bytes`,
			);
			return;
		case 'ignore':
			return;
	}
}

export function ChatInput({tab, width, hasKeys, onEnter, onSearch, onQuit}: ChatInputProps) {
	const report = (message: string): void => tab.error(message);
	usePromptKeys(
		(input, key) => {
			const screen = screenActionForKey(input, key, tab.line.value === '');
			if (screen?.type === 'quit') {
				onQuit(); // Ctrl+D on an empty line (Ctrl+C is the screen's, and ends the chunk before this)
				return 'stop';
			}
			if (screen !== undefined) return undefined; // the screen acts on it (use-screen-keys, use-scroll-keys)
			const feature = featureActionForKey(input, key);
			if (feature?.type === 'complete') {
				completeWord(tab, feature.direction);
				return undefined;
			}
			tab.completion = undefined; // any other key ends the completion
			if (feature?.type === 'search') {
				onSearch();
				return undefined;
			}
			const lineAction = lineActionForKey(input, key);
			if (lineAction?.type === 'submit') onEnter();
			else if (lineAction !== undefined) tab.editLine(lineAction);
			return undefined;
		},
		{hasKeys, report},
	);
	usePromptPastes((text) => paste(tab, text), {hasKeys, report});
	return <InputLine value={tab.line.value} cursor={tab.line.cursor} width={width} />;
}
