// Records a room client's events so tests can assert on what a user would see.
import type {RoomClient, RoomEvent} from '../../source/client/types.js';
import {waitFor} from './wait.js';

export class Recorder {
	readonly events: RoomEvent[] = [];

	constructor(readonly client: RoomClient) {
		client.subscribe((event) => this.events.push(event));
	}

	of<K extends RoomEvent['type']>(type: K): Array<Extract<RoomEvent, {type: K}>> {
		return this.events.filter((e): e is Extract<RoomEvent, {type: K}> => e.type === type);
	}

	texts(): string[] {
		return this.of('message').map((m) => m.text);
	}

	waitFor<K extends RoomEvent['type']>(
		type: K,
		predicate: (event: Extract<RoomEvent, {type: K}>) => boolean = () => true,
		timeout = 10_000,
	): Promise<Extract<RoomEvent, {type: K}>> {
		return waitFor(() => this.of(type).find(predicate), {timeout, what: `a ${type} event`});
	}
}
