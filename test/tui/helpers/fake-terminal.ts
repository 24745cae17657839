// TEST ONLY: stand-ins for a TTY's stdout and stdin, with a size, for rendering
// through Ink's own render() (ink-testing-library's stdout has no rows and is no TTY).

import {EventEmitter} from 'node:events';
import {Writable} from 'node:stream';

export class FakeTtyOutput extends Writable {
	readonly isTTY = true;
	output = '';

	constructor(
		public columns = 80,
		public rows = 24,
	) {
		super();
	}

	override _write(
		chunk: Buffer | string,
		_encoding: BufferEncoding,
		callback: (error?: Error | null) => void,
	): void {
		this.output += chunk.toString();
		callback();
	}

	resize(columns: number, rows: number): void {
		this.columns = columns;
		this.rows = rows;
		this.emit('resize');
	}
}

export class FakeTtyInput extends EventEmitter {
	readonly isTTY = true;
	isRaw = false;
	private pending: string | null = null;

	write(data: string): void {
		this.pending = data;
		this.emit('readable');
		this.emit('data', data);
	}

	read(): string | null {
		const data = this.pending;
		this.pending = null;
		return data;
	}

	setRawMode(mode: boolean): this {
		this.isRaw = mode;
		return this;
	}

	setEncoding(): this {
		return this;
	}

	resume(): this {
		return this;
	}

	pause(): this {
		return this;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}
}
