// Holds line-editor state for a component. The newest state lives in a ref
// too, so two keys arriving before React renders again both apply, and Enter
// reads the line as typed, not as last drawn.

import {useCallback, useRef, useState} from 'react';
import {createLineState, reduceLine, type LineAction, type LineState} from './line-editor.js';

export interface LineEditor {
	readonly state: LineState;
	/** Applies an action and returns the state before it (Enter needs the submitted value). */
	dispatch(action: LineAction): LineState;
	current(): LineState;
}

/** `onChange` hears every new state (a room tab keeps its half-typed prompt that way). */
export function useLineEditor(initial?: () => LineState, onChange?: (state: LineState) => void): LineEditor {
	const changed = useRef(onChange);
	changed.current = onChange;
	const latest = useRef<LineState | undefined>(undefined);
	latest.current ??= initial === undefined ? createLineState() : initial();
	const [state, setState] = useState<LineState>(latest.current);
	const dispatch = useCallback((action: LineAction): LineState => {
		const before = latest.current!;
		latest.current = reduceLine(before, action);
		setState(latest.current);
		changed.current?.(latest.current);
		return before;
	}, []);
	const current = useCallback(() => latest.current!, []);
	return {state, dispatch, current};
}
