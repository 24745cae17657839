// The running servers as the metrics read them at each scrape.
import type {RunningServers} from '../run-servers.js';
import type {TransportFigures, WatchedServers} from './metrics.js';

export function watchedServers({
	tcp,
	udp,
	cluster,
}: Pick<RunningServers, 'tcp' | 'udp'> & Partial<Pick<RunningServers, 'cluster'>>): WatchedServers {
	const rooms = (hub: RunningServers['tcp']['hub'] | RunningServers['udp']['hub']) => {
		let members = 0;
		let sessions = 0;
		for (const room of hub.all()) {
			members += room.size;
			for (const _ of room.members()) sessions++;
		}
		return {rooms: hub.openRooms, members, sessions};
	};
	return {
		...(cluster
			? {
					cluster: () => ({
						brokerUp: cluster.brokerUp,
						peers: cluster.peers.length,
						...cluster.counters,
					}),
				}
			: {}),
		tcp() {
			const {members} = rooms(tcp.hub);
			const figures: TransportFigures = {
				connections: tcp.openConnections,
				rooms: tcp.hub.openRooms,
				members,
				sessions: tcp.sessions,
				messagesIn: tcp.stats.messagesIn,
				messagesOut: tcp.stats.messagesOut,
			};
			return {
				...figures,
				overflows: tcp.stats.overflows,
				failedLogins: tcp.stats.failedLogins,
				accepted: tcp.stats.connections,
				refused: tcp.stats.refused,
				violations: tcp.stats.violations,
				pendingWrites: tcp.pendingWrites,
				journalCommits: tcp.journalStats.commits,
				journalAppends: tcp.journalStats.appends,
				journalFailedCommits: tcp.journalStats.failedCommits,
			};
		},
		udp() {
			return {
				connections: udp.sources,
				...rooms(udp.hub),
				messagesIn: udp.stats.messagesIn,
				messagesOut: udp.stats.messagesOut,
				dropped: udp.stats.dropped,
			};
		},
	};
}
