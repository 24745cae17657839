// Mouse input for the full-screen chat: the terminal reports presses and the
// wheel as SGR sequences (ESC [ < b ; x ; y M) once asked to (ESC [?1000h
// ESC [?1006h). They are taken out of stdin before Ink's key handling sees
// them (MouseInput stands between the terminal and Ink), so they never reach
// the input line as text. Nothing React here.

import {EventEmitter} from 'node:events';

/** Report presses, releases and the wheel (1000) in the SGR encoding (1006). */
export const MOUSE_ON = '\u001b[?1000h\u001b[?1006h';
export const MOUSE_OFF = '\u001b[?1006l\u001b[?1000l';

export type MouseEvent =
	/** 1-based cell of the pointer. */
	| {readonly kind: 'wheel'; readonly direction: 'up' | 'down'; readonly x: number; readonly y: number}
	| {
			readonly kind: 'press';
			readonly button: 'left' | 'middle' | 'right';
			readonly x: number;
			readonly y: number;
	  };

const SGR_MOUSE = /\u001b\[<(\d{1,4});(\d{1,5});(\d{1,5})([Mm])/g;
/** An SGR report cut off at the end of a chunk: kept until the next one. */
const PARTIAL = /\u001b(?:\[(?:<[\d;]{0,16})?)?$/;

function eventOf(code: number, x: number, y: number, final: string): MouseEvent | undefined {
	if (final === 'm') return undefined; // a release
	if ((code & 64) !== 0) {
		const wheel = code & 3;
		return wheel === 0 || wheel === 1
			? {kind: 'wheel', direction: wheel === 0 ? 'up' : 'down', x, y}
			: undefined;
	}
	if ((code & 32) !== 0) return undefined; // motion while held
	const button = (['left', 'middle', 'right'] as const)[code & 3];
	return button === undefined ? undefined : {kind: 'press', button, x, y};
}

/** Splits terminal input into the mouse reports and the rest (keys, pastes), in order. */
export function splitMouse(text: string): {rest: string; events: MouseEvent[]} {
	const events: MouseEvent[] = [];
	const rest = text.replace(SGR_MOUSE, (_, code: string, x: string, y: string, final: string) => {
		const event = eventOf(Number(code), Number(x), Number(y), final);
		if (event !== undefined) events.push(event);
		return '';
	});
	return {rest, events};
}

interface TerminalInput extends EventEmitter {
	readonly isTTY?: boolean;
	read(): string | Buffer | null;
	setRawMode?(mode: boolean): unknown;
	setEncoding?(encoding: BufferEncoding): unknown;
	ref?(): unknown;
	unref?(): unknown;
	resume?(): unknown;
	pause?(): unknown;
}

/**
 * The stdin Ink reads: the terminal's input without the mouse reports, which
 * go to the `mouse` listeners instead. Raw mode, encoding and ref/unref pass
 * through to the terminal.
 */
export class MouseInput extends EventEmitter {
	readonly isTTY: boolean;
	private buffered = '';
	private partial = '';
	private readonly onReadable = (): void => this.pull();

	constructor(private readonly source: TerminalInput) {
		super();
		this.isTTY = source.isTTY === true;
		source.on('readable', this.onReadable);
	}

	/** Stops reading the terminal (the screen has gone). */
	detach(): void {
		this.source.off('readable', this.onReadable);
	}

	private pull(): void {
		let chunk: string | Buffer | null;
		let text = this.partial;
		// biome-ignore lint/suspicious/noAssignInExpressions: the usual stream read loop
		while ((chunk = this.source.read()) !== null) text += chunk.toString();
		const cut = PARTIAL.exec(text)?.[0];
		// A lone ESC is the Esc key: only a started "ESC [ <" report waits for the rest.
		this.partial = cut?.startsWith('\u001b[<') ? cut : '';
		if (this.partial !== '') text = text.slice(0, -this.partial.length);
		const {rest, events} = splitMouse(text);
		for (const event of events) this.emit('mouse', event);
		if (rest === '') return;
		this.buffered += rest;
		this.emit('readable');
	}

	read(): string | null {
		if (this.buffered === '') return null;
		const text = this.buffered;
		this.buffered = '';
		return text;
	}

	setRawMode(mode: boolean): this {
		this.source.setRawMode?.(mode);
		return this;
	}

	setEncoding(encoding: BufferEncoding): this {
		this.source.setEncoding?.(encoding);
		return this;
	}

	ref(): this {
		this.source.ref?.();
		return this;
	}

	unref(): this {
		this.source.unref?.();
		return this;
	}

	resume(): this {
		this.source.resume?.();
		return this;
	}

	pause(): this {
		this.source.pause?.();
		return this;
	}
}

/** Where the screen hears mouse events (a MouseInput, or a test's emitter). */
export interface MouseSource {
	on(event: 'mouse', listener: (event: MouseEvent) => void): unknown;
	off(event: 'mouse', listener: (event: MouseEvent) => void): unknown;
}
