// Asks for a nick before joining: checks it locally with the protocol's rules
// and shows why the server refused one (e.g. nick taken).

import {useState} from 'react';
import {Box, Text, useInput, usePaste} from 'ink';
import {nickProblem} from '../protocol/messages.js';
import {InputLine} from './InputLine.js';
import {eachKeypress, lineActionForKey} from './key-bindings.js';
import type {PromptDrafts} from './room-tab.js';
import {useLineEditor} from './use-line-editor.js';

export interface NickPromptProps {
	readonly width: number;
	/** Called with a valid nick; the parent joins and passes back any refusal as `error`. */
	readonly onSubmit: (nick: string) => void;
	/** Why the last attempt failed, e.g. the server's "nick taken". */
	readonly error?: string | undefined;
	/** Set while a join with this nick is in flight: keys are ignored meanwhile. */
	readonly joiningAs?: string | undefined;
	/** Where the half-typed nick is kept while the prompt is not shown (its room tab). */
	readonly draft?: PromptDrafts | undefined;
	/** A line starting with "/" is a command (e.g. `/connect` after a failed join), not a nick. */
	readonly onCommand?: ((line: string) => void) | undefined;
}

export const NICK_PROMPT_HEIGHT = 2;

export function NickPrompt({width, onSubmit, error, joiningAs, draft, onCommand}: NickPromptProps) {
	const busy = joiningAs !== undefined;
	const editor = useLineEditor(draft?.nick === undefined ? undefined : () => draft.nick!, (state) => {
		if (draft !== undefined) draft.nick = state;
	});
	const [problem, setProblem] = useState<string | undefined>(undefined);

	// Always subscribed (keys are ignored while busy): re-subscribing after a
	// failed join would drop keys typed in the moment before the effect runs.
	useInput(
		eachKeypress((input, key) => {
			if (busy) return;
			const action = lineActionForKey(input, key);
			if (action === undefined || action.type === 'history-up' || action.type === 'history-down') return;
			if (action.type !== 'submit') {
				editor.dispatch(action);
				setProblem(undefined);
				return;
			}
			const typed = editor.current().value.trim();
			// "/nick NAME" here means: join as NAME.
			const line = /^\/nick\s/i.test(typed) ? typed.replace(/^\/nick\s+/i, '') : typed;
			if (onCommand !== undefined && line.startsWith('/')) {
				editor.dispatch({type: 'replace', value: '', cursor: 0});
				setProblem(undefined);
				onCommand(line);
				return 'stop';
			}
			const nick = line;
			const found = nickProblem(nick);
			setProblem(found);
			if (found === undefined) onSubmit(nick);
			return 'stop';
		}),
	);
	usePaste((text) => {
		if (!busy) editor.dispatch({type: 'insert', text});
	});

	const message = busy
		? {text: `joining as ${joiningAs}…`, color: 'yellow'}
		: (problem ?? error) === undefined
			? {text: 'choose a nick, then press Enter', color: 'gray'}
			: {text: problem ?? error ?? '', color: 'red'};
	return (
		<Box flexDirection="column" width={width} height={NICK_PROMPT_HEIGHT}>
			<Text color={message.color} wrap="truncate-end">
				{message.text}
			</Text>
			<InputLine
				value={editor.state.value}
				cursor={editor.state.cursor}
				width={width}
				prompt="nick> "
				active={!busy}
			/>
		</Box>
	);
}
