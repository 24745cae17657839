// Collects the "trust this new server?" questions the TCP clients ask through a
// HostTrustPrompter, one at a time, whichever tab's client asked. While the
// screen is mounted it is the one answering; when it goes, pending questions
// are answered no (a new server is never trusted silently).
//
// The queue is an external store (useSyncExternalStore), so a question arriving
// from the network is drawn in a synchronous render: the trust prompt it mounts
// is listening for keys as soon as it shows.

import {useCallback, useEffect, useRef, useSyncExternalStore} from 'react';
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

/** The pending questions in the order asked, and who redraws when they change. */
class PendingQuestions {
	#entries: readonly PendingTrust[] = [];
	readonly #listeners = new Set<() => void>();

	get entries(): readonly PendingTrust[] {
		return this.#entries;
	}

	subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	add(entry: PendingTrust): void {
		this.#set([...this.#entries, entry]);
	}

	/** False when it was answered already. */
	remove(entry: PendingTrust): boolean {
		if (!this.#entries.includes(entry)) return false;
		this.#set(this.#entries.filter((queued) => queued !== entry));
		return true;
	}

	#set(entries: readonly PendingTrust[]): void {
		this.#entries = entries;
		for (const listener of this.#listeners) listener();
	}
}

export function useTrustQueue(trust: HostTrustPrompter | undefined): TrustQueue {
	const questions = useRef<PendingQuestions>(undefined);
	questions.current ??= new PendingQuestions();
	const pending = questions.current;
	const entries = useSyncExternalStore(pending.subscribe, () => pending.entries);

	const answer = useCallback(
		(entry: PendingTrust, trusted: boolean) => {
			if (pending.remove(entry)) entry.resolve(trusted);
		},
		[pending],
	);
	const refuseAll = useCallback(() => {
		for (const entry of pending.entries) answer(entry, false);
	}, [answer, pending]);

	useEffect(() => {
		if (trust === undefined) return undefined;
		const unregister = trust.setHandler(
			(request) => new Promise<boolean>((resolve) => pending.add({request, resolve})),
		);
		return () => {
			unregister();
			for (const entry of pending.entries) {
				pending.remove(entry);
				entry.resolve(false);
			}
		};
	}, [trust, pending]);

	return {shown: entries[0], answer, refuseAll};
}
