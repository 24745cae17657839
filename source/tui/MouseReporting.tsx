// Asks the terminal for mouse reports while the chat is on screen and stops
// them when it goes, however it goes (quit, signal, crash: each unmounts).
// A layout effect, so the "off" is written during the unmount itself, before
// a signal handler lets the process die.

import {type ReactNode, useLayoutEffect} from 'react';
import {MOUSE_OFF, MOUSE_ON} from './mouse.js';

export function MouseReporting({
	stdout,
	children,
}: {
	readonly stdout: {write(chunk: string): unknown};
	readonly children: ReactNode;
}) {
	useLayoutEffect(() => {
		const write = (sequence: string): void => {
			try {
				stdout.write(sequence);
			} catch {
				// The terminal may be gone already.
			}
		};
		write(MOUSE_ON);
		// Belt and braces: an exit that skips the unmount still stops the reports.
		const off = (): void => write(MOUSE_OFF);
		process.once('exit', off);
		return () => {
			process.off('exit', off);
			off();
		};
	}, [stdout]);
	return children;
}
