// Trust on first use: a TCP room whose certificate we have never seen asks,
// like ssh, whether to trust it and remember it. y/Y says yes; n/N, Enter and
// Esc say no (the safe default). While it is shown no other key goes anywhere
// (the screen lets Ctrl+C through, which says no too). A key typed before the
// question was drawn is no answer: the prompt only listens once it shows.

import {Box, Text} from 'ink';
import type {TrustRequest} from '../client/host-trust.js';
import {yesNoAnswerForKey} from './key-bindings.js';
import {useKeys} from './use-keys.js';

export interface TrustPromptProps {
	readonly request: TrustRequest;
	readonly width: number;
	readonly onAnswer: (trusted: boolean) => void;
	/** Where a failing answer is reported (the room on screen). */
	readonly report: (message: string) => void;
}

/** Room for the question to wrap at narrow widths. */
export const TRUST_PROMPT_HEIGHT = 3;

export function trustQuestion(request: TrustRequest): string {
	return `New server ${request.hostPort} — certificate ${request.fingerprint} — trust it and remember it? [y/N]`;
}

export function TrustPrompt({request, width, onAnswer, report}: TrustPromptProps) {
	useKeys(
		(input, key) => {
			const trusted = yesNoAnswerForKey(input, key);
			if (trusted !== undefined) onAnswer(trusted);
			return undefined;
		},
		{report},
	);
	return (
		<Box width={width} height={TRUST_PROMPT_HEIGHT} overflow="hidden">
			<Text color="yellow" bold wrap="wrap">
				{trustQuestion(request)}
			</Text>
		</Box>
	);
}
