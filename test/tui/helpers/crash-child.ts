// TEST ONLY: run as a child process by render-chat.test. Renders the chat on a
// fake TTY that copies everything to the real stdout, then throws from a
// timer, so the parent can check the terminal is restored before the error
// is printed and that the process exits with a failure status.

import {writeSync} from 'node:fs';
import {renderChat} from '../../../source/tui/render-chat.js';
import {FakeRoomClient} from './fake-room-client.js';
import {FakeTtyInput, FakeTtyOutput} from './fake-terminal.js';

class EchoingOutput extends FakeTtyOutput {
	override _write(
		chunk: Buffer | string,
		encoding: BufferEncoding,
		callback: (error?: Error | null) => void,
	): void {
		writeSync(1, chunk.toString());
		super._write(chunk, encoding, callback);
	}
}

const output = new EchoingOutput(40, 8);
renderChat(new FakeRoomClient({nick: 'me'}), {
	stdout: output as unknown as NodeJS.WriteStream,
	stderr: output as unknown as NodeJS.WriteStream,
	stdin: new FakeTtyInput() as unknown as NodeJS.ReadStream,
	interactive: true,
});
setTimeout(() => {
	throw new Error('boom from a timer');
}, 100);
