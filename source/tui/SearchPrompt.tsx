// The bottom row while searching the log: the query with a cursor at its end,
// where the search stands ("match 3/17") and the keys, as far as they fit.
// While it shows it has the keys (searchActionForKey) and takes pastes as query text.

import {Box, Text} from 'ink';
import stringWidth from 'string-width';
import {searchActionForKey} from './key-bindings.js';
import {normalisePaste} from './paste-policy.js';
import type {SearchAction} from './search.js';
import {usePromptKeys, usePromptPastes} from './use-keys.js';
import {visibleWindow} from './visible-window.js';

export interface SearchPromptProps {
	readonly query: string;
	/** searchStatusText(state): "match 3/17", "no matches", or ''. */
	readonly status: string;
	readonly width: number;
	/** What the keys do to the search; without it the prompt is only drawn and takes no keys. */
	readonly onAction?: ((action: SearchAction) => void) | undefined;
	/** Read at key time: whether the search still has the keys (Enter or Esc may have closed it earlier in a chunk). */
	readonly hasKeys?: (() => boolean) | undefined;
	readonly report?: ((message: string) => void) | undefined;
}

export const SEARCH_PROMPT_LABEL = 'search: ';
export const SEARCH_KEYS_HINT = '^R older  ^S newer  Enter stay  Esc back';

export function SearchPrompt({query, status, width, onAction, hasKeys, report}: SearchPromptProps) {
	const isActive = onAction !== undefined;
	usePromptKeys(
		(input, key) => {
			const action = searchActionForKey(input, key);
			if (action !== undefined) onAction?.(action);
			return undefined;
		},
		{isActive, hasKeys, report},
	);
	usePromptPastes((text) => onAction?.({type: 'type', text: normalisePaste(text)}), {
		isActive,
		hasKeys,
		report,
	});
	const found = status !== '' && status !== 'no matches';
	const right = status === '' ? SEARCH_KEYS_HINT : `${status}  ${SEARCH_KEYS_HINT}`;
	// The query keeps at least a third of the row; the status and hint take what is left, hint first to go.
	const queryColumns = Math.max(
		1,
		width - stringWidth(SEARCH_PROMPT_LABEL) - Math.min(stringWidth(right) + 2, Math.floor((width * 2) / 3)),
	);
	const view = visibleWindow(query, query.length, queryColumns, 0);
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate-end">
				<Text color="cyan" bold>
					{SEARCH_PROMPT_LABEL}
				</Text>
				{view.beforeCursor}
				<Text inverse>{view.underCursor}</Text>
				{'  '}
				<Text color={found ? 'green' : status === '' ? 'gray' : 'red'}>{status}</Text>
				<Text dimColor>{status === '' ? SEARCH_KEYS_HINT : `  ${SEARCH_KEYS_HINT}`}</Text>
			</Text>
		</Box>
	);
}
