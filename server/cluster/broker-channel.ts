// What the room servers need from the broker between nodes (Redis pub/sub
// behind it): publish a payload on a channel, hear a channel's payloads, and
// know whether the broker is reachable. Kept this small so the TCP and UDP
// relays, and their tests, depend on nothing else.

/** Where a payload came from (the broker's envelope). */
export interface PayloadOrigin {
	nodeId: string;
	/** The publisher's clock (ms since the epoch) when it sent. */
	sentAt: number;
}

export interface BrokerChannel {
	/** This node's id: relays skip their own payloads when they come back. */
	readonly nodeId: string;
	/** Fire and forget: a payload published while the broker is down is dropped (relays resync from the store). */
	publish(channel: string, payload: Buffer): void;
	/** Hears the channel's payloads until the returned function is called. */
	subscribe(channel: string, handler: (payload: Buffer, origin: PayloadOrigin) => void): () => void;
	/** Whether the broker is reachable now. */
	readonly up: boolean;
	/** Called on every change of `up` (down when the connection is lost, up when it is back and resubscribed). */
	onStatus(listener: (up: boolean) => void): () => void;
}
