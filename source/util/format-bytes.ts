// Sizes as people read them (1.5 MiB), the same in the TUI, the scripts and the server's messages.
export function formatBytes(count: number): string {
	if (count < 1024) return `${count} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = count / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
