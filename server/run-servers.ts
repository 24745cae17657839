// Starts the room servers a `parley serve` (or the embedded default) runs.
import {startUdpRoomServer, type UdpRoomServer} from './udp/udp-room-server.js';

export interface ServersOptions {
	host: string;
	udpPort: number;
	log: (line: string) => void;
	roomName?: string;
	maxMembers?: number;
}

export interface RunningServers {
	udp: UdpRoomServer;
	close(): Promise<void>;
}

export async function runServers(options: ServersOptions): Promise<RunningServers> {
	const udp = await startUdpRoomServer({
		host: options.host,
		port: options.udpPort,
		log: options.log,
		...(options.roomName ? {roomName: options.roomName} : {}),
		...(options.maxMembers ? {maxMembers: options.maxMembers} : {}),
	});
	return {
		udp,
		async close() {
			await udp.close();
		},
	};
}
