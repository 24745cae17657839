// Reading a password for `parley user`: a masked prompt on the terminal (raw
// mode, nothing but '*' echoed), or the first line of standard input with
// --password-stdin for scripts. The streams are parameters so tests can drive
// the prompt with fake terminals.

import {StringDecoder} from 'node:string_decoder';
import {DEFAULT_PASSWORD_POLICY, passwordProblem} from '../protocol/password-policy.js';

export const MIN_PASSWORD_LENGTH = DEFAULT_PASSWORD_POLICY.minLength;
/** More than any password; stops a runaway pipe from filling memory. */
export const MAX_PASSWORD_LINE_CHARS = 64 * 1024;

/** process.stdin's shape, reduced to what the prompt uses; fakes implement the same. */
export interface PasswordInput extends NodeJS.ReadableStream {
	isTTY?: boolean;
	isRaw?: boolean;
	setRawMode?(mode: boolean): unknown;
}

export interface PasswordStreams {
	/** Default process.stdin. */
	input?: PasswordInput;
	/** Where prompts and the mask go; default process.stderr so standard output stays clean. */
	output?: NodeJS.WritableStream;
}

/**
 * kind: 'usage' — the password cannot be asked for this way (not a terminal);
 * 'invalid' — the password was refused (too short, mismatch, bad characters);
 * 'aborted' — the user gave up (Ctrl+C, Ctrl+D, end of input).
 */
export type PasswordInputErrorKind = 'usage' | 'invalid' | 'aborted';

export class PasswordInputError extends Error {
	constructor(
		readonly kind: PasswordInputErrorKind,
		message: string,
	) {
		super(message);
		this.name = 'PasswordInputError';
	}
}

export const NOT_A_TERMINAL_MESSAGE =
	'standard input is not a terminal, so the password cannot be asked for; ' +
	'pass --password-stdin and pipe it in, e.g. printf \'%s\\n\' "$PASSWORD" | parley user add NAME --password-stdin';

/** Why a password cannot be read from these options, or undefined when it can. */
export function passwordSourceProblem(
	fromStdin: boolean,
	input: PasswordInput = process.stdin,
): string | undefined {
	if (fromStdin) return undefined;
	if (input.isTTY !== true || typeof input.setRawMode !== 'function') return NOT_A_TERMINAL_MESSAGE;
	return undefined;
}

/** Throws PasswordInputError('invalid') unless the password is acceptable for a new or changed account. */
export function checkNewPassword(password: string): string {
	const problem = passwordProblem(password);
	if (problem !== undefined) throw new PasswordInputError('invalid', problem);
	return password;
}

export interface PromptOptions extends PasswordStreams {
	/** Echoed per typed character: '*' (default) or '' for nothing at all. */
	mask?: '*' | '';
}

const ERASE = '\b \b';

/**
 * Asks on a terminal in raw mode. Enter ends, Backspace deletes a character,
 * Ctrl+U clears, Ctrl+C (or Ctrl+D on an empty line) aborts; cursor and other
 * escape sequences are ignored. Raw mode is restored however it ends.
 */
export function promptPassword(prompt: string, options: PromptOptions = {}): Promise<string> {
	const input = options.input ?? process.stdin;
	const output = options.output ?? process.stderr;
	const mask = options.mask ?? '*';
	const setRawMode = input.setRawMode?.bind(input);
	if (input.isTTY !== true || setRawMode === undefined)
		return Promise.reject(new PasswordInputError('usage', NOT_A_TERMINAL_MESSAGE));

	return new Promise<string>((resolve, reject) => {
		const wasRaw = input.isRaw === true;
		const decoder = new StringDecoder('utf8');
		const typed: string[] = [];
		let pending: 'none' | 'esc' | 'csi' | 'ss3' = 'none';
		let finished = false;

		const finish = (error?: Error): void => {
			finished = true;
			input.removeListener('data', onData);
			input.removeListener('end', onEnd);
			input.removeListener('error', onError);
			setRawMode(wasRaw);
			input.pause();
			output.write('\n');
			if (error === undefined) resolve(typed.join(''));
			else reject(error);
		};

		const erase = (count: number): void => {
			if (mask !== '' && count > 0) output.write(ERASE.repeat(count));
		};

		const onCharacter = (character: string): void => {
			const code = character.codePointAt(0) ?? 0;
			if (pending === 'esc') {
				pending = character === '[' ? 'csi' : character === 'O' ? 'ss3' : 'none';
				return;
			}
			if (pending === 'csi') {
				if (code >= 0x40 && code <= 0x7e) pending = 'none';
				return;
			}
			if (pending === 'ss3') {
				pending = 'none';
				return;
			}
			switch (character) {
				case '\r':
				case '\n':
					finish();
					return;
				case '\x03':
					finish(new PasswordInputError('aborted', 'password entry aborted (Ctrl+C)'));
					return;
				case '\x04':
					if (typed.length === 0)
						finish(new PasswordInputError('aborted', 'password entry aborted (Ctrl+D)'));
					return;
				case '\x7f':
				case '\b':
					if (typed.length > 0) {
						typed.pop();
						erase(1);
					}
					return;
				case '\x15':
					erase(typed.length);
					typed.length = 0;
					return;
				case '\x1b':
					pending = 'esc';
					return;
			}
			if (code < 0x20 || (code >= 0x80 && code < 0xa0)) return; // other control characters
			typed.push(character);
			if (mask !== '') output.write(mask);
		};

		const onData = (chunk: Buffer | string): void => {
			const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
			let consumed = 0;
			for (const character of text) {
				consumed += character.length;
				onCharacter(character);
				if (finished) {
					// Typed ahead (the repeat of a new password, say): leave it for the next reader.
					const rest = text.slice(consumed);
					if (rest !== '') input.unshift(Buffer.from(rest, 'utf8'));
					return;
				}
			}
		};
		const onEnd = (): void =>
			finish(new PasswordInputError('aborted', 'password entry aborted (end of input)'));
		const onError = (error: Error): void => finish(error);

		output.write(prompt);
		setRawMode(true);
		input.on('data', onData);
		input.on('end', onEnd);
		input.on('error', onError);
		input.resume();
	});
}

/** The first line of a stream, without its trailing CR/LF; for --password-stdin. */
export function readPasswordLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
	return new Promise<string>((resolve, reject) => {
		const decoder = new StringDecoder('utf8');
		let text = '';

		const finish = (error: Error | undefined, line?: string): void => {
			input.removeListener('data', onData);
			input.removeListener('end', onEnd);
			input.removeListener('error', onError);
			input.pause();
			if (error !== undefined) {
				reject(error);
				return;
			}
			const password = (line ?? '').replace(/[\r\n]+$/, '');
			if (password === '')
				reject(new PasswordInputError('invalid', 'no password on standard input (its first line is empty)'));
			else resolve(password);
		};

		const onData = (chunk: Buffer | string): void => {
			text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
			const newline = text.indexOf('\n');
			if (newline !== -1) finish(undefined, text.slice(0, newline));
			else if (text.length > MAX_PASSWORD_LINE_CHARS)
				finish(new PasswordInputError('invalid', "standard input's first line is too long to be a password"));
		};
		const onEnd = (): void => finish(undefined, text + decoder.end());
		const onError = (error: Error): void => finish(error);

		input.on('data', onData);
		input.on('end', onEnd);
		input.on('error', onError);
		input.resume();
	});
}

export interface ReadPasswordOptions extends PromptOptions {
	/** --password-stdin: take the first line of input instead of prompting. */
	fromStdin: boolean;
	/** A new password: asked twice on a terminal and held to MIN_PASSWORD_LENGTH. */
	isNew: boolean;
	prompt?: string;
	confirmPrompt?: string;
}

/** The password from wherever the options say; throws PasswordInputError with a user-facing message. */
export async function readPassword(options: ReadPasswordOptions): Promise<string> {
	const input = options.input ?? process.stdin;
	if (options.fromStdin) {
		const password = await readPasswordLine(input);
		return options.isNew ? checkNewPassword(password) : password;
	}
	const problem = passwordSourceProblem(false, input);
	if (problem !== undefined) throw new PasswordInputError('usage', problem);
	const promptOptions: PromptOptions = {
		input,
		...(options.output ? {output: options.output} : {}),
		...(options.mask === undefined ? {} : {mask: options.mask}),
	};
	const password = await promptPassword(options.prompt ?? 'Password: ', promptOptions);
	if (!options.isNew) return password;
	checkNewPassword(password);
	const again = await promptPassword(options.confirmPrompt ?? 'Repeat the password: ', promptOptions);
	if (again !== password) throw new PasswordInputError('invalid', 'the passwords do not match');
	return password;
}
