// One line per file transfer of the room on screen: direction, name, a bar,
// bytes done of the total, the rate and the time left.

import {Box, Text} from 'ink';
import {formatBytes} from '../util/format-bytes.js';
import {sanitizeText} from '../protocol/messages.js';
import type {TransferEntry} from './transfers.js';

/** At most this many lines; more transfers are counted on the last. */
export const MAX_TRANSFER_ROWS = 3;

export function transferRows(count: number): number {
	return Math.min(count, MAX_TRANSFER_ROWS);
}

export function TransferBar({entries, width}: {entries: readonly TransferEntry[]; width: number}) {
	const shown = entries.slice(0, MAX_TRANSFER_ROWS);
	return (
		<Box flexDirection="column" height={shown.length}>
			{shown.map((entry, index) => (
				<Text key={index} wrap="truncate-end">
					{transferLine(entry, width, index === shown.length - 1 ? entries.length - shown.length : 0)}
				</Text>
			))}
		</Box>
	);
}

export function transferLine(entry: TransferEntry, width: number, more = 0): string {
	const {done, total, rate, etaMs} = entry.progress;
	const arrow = entry.transfer.kind === 'upload' ? '↑' : '↓';
	const percent = total === 0 ? 0 : Math.min(100, Math.floor((done / total) * 100));
	const figures =
		`${percent}% ${formatBytes(done)}/${formatBytes(total)}` +
		(rate > 0 ? ` ${formatBytes(Math.round(rate))}/s` : '') +
		(etaMs === undefined ? '' : ` ${formatDuration(etaMs)} left`) +
		(more > 0 ? ` (+${more} more)` : '');
	const name = sanitizeText(entry.transfer.name).slice(0, 30);
	const barWidth = Math.max(5, Math.min(30, width - name.length - figures.length - 8));
	const filled = Math.round((percent / 100) * barWidth);
	return `${arrow} ${name} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${figures}`;
}

function formatDuration(ms: number): string {
	const seconds = Math.ceil(ms / 1000);
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
	return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
