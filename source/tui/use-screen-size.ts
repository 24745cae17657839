// The terminal size the layout is built for.

import {useStdout, useWindowSize} from 'ink';

export interface ScreenSize {
	readonly columns: number;
	readonly rows: number;
}

export const FALLBACK_SIZE: ScreenSize = {columns: 80, rows: 24};

const known = (value: number | undefined): value is number =>
	value !== undefined && Number.isFinite(value) && value > 0;

/**
 * useWindowSize() re-renders on resize; the numbers come from the output stream
 * itself when it knows them, else 80x24. (Ink's own fallback asks the process's
 * controlling terminal, which is wrong when rendering to some other stream.)
 */
export function useScreenSize(override?: ScreenSize): ScreenSize {
	const windowSize = useWindowSize();
	const {stdout} = useStdout();
	if (override !== undefined) return override;
	const stream = stdout as NodeJS.WriteStream;
	return {
		columns: known(stream.columns)
			? stream.columns
			: known(windowSize.columns) && stream.isTTY
				? windowSize.columns
				: FALLBACK_SIZE.columns,
		rows: known(stream.rows)
			? stream.rows
			: known(windowSize.rows) && stream.isTTY
				? windowSize.rows
				: FALLBACK_SIZE.rows,
	};
}
