// One line per notable server event, timestamped, for `parley serve`.
export function logLine(line: string): void {
	process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}
