// The room's topic, on the row under the tab bar, while the room on screen has one.

import {Box, Text} from 'ink';
import {sanitizeText} from '../protocol/messages.js';
import type {RoomTab} from './room-tab.js';

/** The topic to show for the tab, if it has one. */
export function topicOf(tab: RoomTab | undefined): string | undefined {
	const topic = tab?.info?.topic;
	return topic === undefined || topic === '' ? undefined : topic;
}

export function TopicLine({topic, width}: {readonly topic: string; readonly width: number}) {
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate-end">
				<Text color="cyan">topic: </Text>
				{sanitizeText(topic).replace(/\s+/gu, ' ')}
			</Text>
		</Box>
	);
}
