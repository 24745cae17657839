// Collects the "trust this new server?" questions the TCP clients ask through a
// HostTrustPrompter, one at a time, whichever tab's client asked. While the
// screen is mounted it is the one answering; when it goes, pending questions
// are answered no (a new server is never trusted silently).

import {useCallback, useEffect, useRef, useState} from 'react';
import type {HostTrustPrompter, TrustRequest} from '../client/host-trust.js';

export interface PendingTrust {
	readonly request: TrustRequest;
	readonly resolve: (trusted: boolean) => void;
}

export interface TrustQueue {
	/** The question on screen now, if any. */
	readonly shown: PendingTrust | undefined;
	answer(entry: PendingTrust, trusted: boolean): void;
	/** Says no to everything pending (quitting). */
	refuseAll(): void;
}

export function useTrustQueue(trust: HostTrustPrompter | undefined): TrustQueue {
	const [queue, setQueue] = useState<readonly PendingTrust[]>([]);
	const pending = useRef(new Set<PendingTrust>());

	const answer = useCallback((entry: PendingTrust, trusted: boolean) => {
		if (!pending.current.delete(entry)) return; // answered already
		setQueue((current) => current.filter((queued) => queued !== entry));
		entry.resolve(trusted);
	}, []);
	const refuseAll = useCallback(() => {
		for (const entry of [...pending.current]) answer(entry, false);
	}, [answer]);

	useEffect(() => {
		if (trust === undefined) return undefined;
		const unregister = trust.setHandler(
			(request) =>
				new Promise<boolean>((resolve) => {
					const entry: PendingTrust = {request, resolve};
					pending.current.add(entry);
					setQueue((current) => [...current, entry]);
				}),
		);
		const open = pending.current;
		return () => {
			unregister();
			for (const entry of [...open]) {
				open.delete(entry);
				entry.resolve(false);
			}
		};
	}, [trust]);

	return {shown: queue[0], answer, refuseAll};
}
