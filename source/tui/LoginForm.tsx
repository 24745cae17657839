// Asks for a user name and a password before joining a room that needs them
// (TCP rooms), or creates the account with Ctrl+R. The password is drawn as one
// `•` per character and never kept in any history. The server's refusal comes
// back as `error`; the password field is emptied for the next try.

import {useCallback, useRef, useState} from 'react';
import {Box, Text, useInput, usePaste} from 'ink';
import {graphemes} from './graphemes.js';
import {InputLine} from './InputLine.js';
import {eachKeypress, formActionForKey} from './key-bindings.js';
import {createLineState, type LineState} from './line-editor.js';
import type {PromptDrafts} from './room-tab.js';
import {useLineEditor, type LineEditor} from './use-line-editor.js';

export interface LoginOptions {
	/** Create the account instead of logging in to an existing one. */
	readonly register: boolean;
}

export interface LoginFormProps {
	readonly width: number;
	/** The user name to start with (e.g. from --nick); the password field gets the focus then. */
	readonly user?: string | undefined;
	/** Called with a non-empty user name and password; the parent connects and passes back any refusal as `error`. */
	readonly onSubmit: (user: string, password: string, options: LoginOptions) => void;
	/** Why the last attempt failed, e.g. "invalid user name or password". */
	readonly error?: string | undefined;
	/** Set while a login as this user is in flight: keys are ignored meanwhile. */
	readonly loggingInAs?: string | undefined;
	/** The first line before any attempt (default: say what the form is for). */
	readonly intro?: string | undefined;
	/** Where the half-typed fields are kept while the form is not shown (its room tab). */
	readonly draft?: PromptDrafts | undefined;
}

/** Status line, user name, password, key hint. */
export const LOGIN_FORM_HEIGHT = 4;

export const LOGIN_HINT = 'Enter log in · Tab switch field · Ctrl+R register a new account';

type Field = 'user' | 'password';

const MASK = '•';

/** What the password field shows: one mask character per character typed, and where the cursor is among them. */
export function maskedLine(state: Pick<LineState, 'value' | 'cursor'>): {value: string; cursor: number} {
	const all = graphemes(state.value);
	return {
		value: MASK.repeat(all.length),
		cursor: all.filter((grapheme) => grapheme.start < state.cursor).length,
	};
}

function clear(editor: LineEditor): void {
	editor.dispatch({type: 'end'});
	editor.dispatch({type: 'delete-to-start'});
}

export const LOGIN_INTRO = 'log in to this room (or create an account)';

export function LoginForm({
	width,
	user = '',
	onSubmit,
	error,
	loggingInAs,
	intro = LOGIN_INTRO,
	draft,
}: LoginFormProps) {
	const busy = loggingInAs !== undefined;
	const userEditor = useLineEditor(
		() => draft?.user ?? {...createLineState(), value: user, cursor: user.length},
		(state) => {
			if (draft !== undefined) draft.user = state;
		},
	);
	const passwordEditor = useLineEditor(
		() => draft?.password ?? createLineState(),
		(state) => {
			if (draft !== undefined) draft.password = state;
		},
	);
	// The newest focus lives in a ref too: one chunk ("alice\tsecret\r") switches and types in one go.
	const focusRef = useRef<Field>(
		draft?.focus ?? (userEditor.current().value.trim() === '' ? 'user' : 'password'),
	);
	const [focus, setFocusState] = useState<Field>(focusRef.current);
	const [problem, setProblem] = useState<string | undefined>(undefined);

	const setFocus = useCallback(
		(field: Field) => {
			focusRef.current = field;
			if (draft !== undefined) draft.focus = field;
			setFocusState(field);
		},
		[draft],
	);
	const focused = (): LineEditor => (focusRef.current === 'user' ? userEditor : passwordEditor);

	/** Checks the fields, then hands them to the parent. */
	const submit = (register: boolean): void => {
		const name = userEditor.current().value.trim();
		const password = passwordEditor.current().value;
		if (name === '') {
			setProblem('enter a user name');
			setFocus('user');
			return;
		}
		if (password === '') {
			setProblem(register ? 'choose a password for the new account' : 'enter your password');
			setFocus('password');
			return;
		}
		setProblem(undefined);
		// Emptied now, so a refused login leaves the field ready for the next try.
		clear(passwordEditor);
		setFocus('password');
		onSubmit(name, password, {register});
	};

	// Always subscribed (keys are ignored while busy), as in the nick prompt.
	useInput(
		eachKeypress((input, key) => {
			if (busy) return;
			const action = formActionForKey(input, key);
			if (action === undefined) return;
			switch (action.type) {
				case 'switch-field':
					setFocus(focusRef.current === 'user' ? 'password' : 'user');
					return;
				case 'register':
					submit(true);
					return 'stop';
				case 'submit':
					if (focusRef.current === 'user') {
						setFocus('password');
						return;
					}
					submit(false);
					return 'stop';
				default:
					focused().dispatch(action);
					setProblem(undefined);
			}
		}),
	);
	usePaste((text) => {
		if (!busy) focused().dispatch({type: 'insert', text});
	});

	const message = busy
		? {text: `logging in as ${loggingInAs}…`, color: 'yellow'}
		: (problem ?? error) === undefined
			? {text: intro, color: 'gray'}
			: {text: problem ?? error ?? '', color: 'red'};
	const masked = maskedLine(passwordEditor.state);
	return (
		<Box flexDirection="column" width={width} height={LOGIN_FORM_HEIGHT}>
			<Text color={message.color} wrap="truncate-end">
				{message.text}
			</Text>
			<InputLine
				value={userEditor.state.value}
				cursor={userEditor.state.cursor}
				width={width}
				prompt="user>     "
				active={!busy && focus === 'user'}
			/>
			<InputLine
				value={masked.value}
				cursor={masked.cursor}
				width={width}
				prompt="password> "
				active={!busy && focus === 'password'}
			/>
			<Text color="gray" wrap="truncate-end">
				{LOGIN_HINT}
			</Text>
		</Box>
	);
}
