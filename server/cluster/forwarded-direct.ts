// A direct message for a member on another node, as both relays pass it (TCP
// rooms: cluster-node.ts; UDP rooms: udp-relay.ts): the nodes that hold its
// recipient (or the sender's other sessions), and its payload on the way,
// checked on arrival like anything another node sends.

import * as v from 'valibot';
import {identityKey} from '../../source/protocol/names.js';
import type {ForwardedDirect} from '../room/room.js';

const DirectPayloadSchema = v.object({
	type: v.literal('dm'),
	room: v.pipe(v.string(), v.maxLength(255)),
	from: v.string(),
	to: v.string(),
	text: v.string(),
	ts: v.pipe(v.number(), v.finite()),
});
export type DirectPayload = v.InferOutput<typeof DirectPayloadSchema>;

/** What goes to a node holding the recipient: the room (its key) and the message. */
export function directPayload(room: string, message: ForwardedDirect): DirectPayload {
	const {from, to, text, ts} = message;
	return {type: 'dm', room, from, to, text, ts};
}

/** A payload another node sent, when it is a well-formed direct message. */
export function readDirect(value: unknown): {room: string; direct: ForwardedDirect} | undefined {
	const parsed = v.safeParse(DirectPayloadSchema, value);
	if (!parsed.success) return undefined;
	const {room, from, to, text, ts} = parsed.output;
	return {room, direct: {from, to, text, ts}};
}

/** The nodes (of node → its members in the room) where the recipient or the sender has a session. */
export function nodesHolding(
	rosters: Iterable<readonly [string, Iterable<{nick: string}>]>,
	message: ForwardedDirect,
): string[] {
	const wanted = new Set([identityKey(message.to), identityKey(message.from)]);
	const nodes: string[] = [];
	for (const [node, members] of rosters)
		for (const member of members)
			if (wanted.has(identityKey(member.nick))) {
				nodes.push(node);
				break;
			}
	return nodes;
}
