// A yes/no question on the terminal, for commands that destroy data. The
// terminal stays in its normal mode, so Ctrl+C interrupts as anywhere else.
import {createInterface} from 'node:readline';

export interface ConfirmInput extends NodeJS.ReadableStream {
	isTTY?: boolean;
}

/** Asks on `output`; true only for y or yes (any case). End of input is a no. */
export function confirm(
	question: string,
	input: ConfirmInput,
	output: NodeJS.WritableStream,
): Promise<boolean> {
	const lines = createInterface({input, terminal: false});
	output.write(`${question} [y/N] `);
	return new Promise((resolve) => {
		let answered = false;
		lines.once('line', (line) => {
			answered = true;
			lines.close();
			resolve(/^\s*y(es)?\s*$/i.test(line));
		});
		lines.once('close', () => {
			if (answered) return;
			output.write('\n');
			resolve(false);
		});
	});
}
