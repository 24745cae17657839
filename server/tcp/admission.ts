// Accept-time admission of TCP connections. Limits are applied to the raw
// socket before any TLS work: a connection over its address's share or over
// the total is dropped at once (no handshake, no timer), so one address can
// hold at most its share of sockets. Until it logs in a connection is
// "pre-login": it has a short deadline, and when the server is full the
// oldest pre-login connection yields its slot to a newcomer.

import type net from 'node:net';
import tls from 'node:tls';
import {encodeFrame} from '../../source/protocol/framing.js';
import {encodeJson} from '../../source/protocol/messages.js';
import {addressKey, type ConnectionLimiter} from '../auth/connection-limiter.js';

export interface AdmissionStats {
	/** Connections refused at accept time (over a limit). */
	refused: number;
	/** Pre-login connections cut off to make room for a newcomer. */
	evicted: number;
}

/** An admitted connection's slot, freed when its socket closes. */
export interface Admitted {
	/** It logged in: from now on it neither times out as pre-login nor yields its slot. */
	loggedIn(): void;
	/** Cuts it off before login; the acceptor replaces it to say why (the default just destroys). */
	cutOff: (reason: string) => void;
}

export interface AdmissionOptions {
	limiter: ConnectionLimiter;
	/** undefined: plaintext (only behind an explicit flag). */
	secureContext: tls.SecureContext | undefined;
	/** From accept to login (TLS handshake included). */
	preLoginTimeoutMs: number;
	stats: AdmissionStats;
	/** An admitted connection, TLS already up. */
	accept(socket: net.Socket, admitted: Admitted): void;
}

export interface Admission {
	/** The listener for net.createServer. */
	onConnection(raw: net.Socket): void;
	/** Raw sockets held open for an address (its /64 for IPv6). */
	heldFrom(address: string): number;
	/** Cuts off every connection not logged in yet (shutdown: none of them holds up the server's close). */
	cutOffPreLogin(reason: string): void;
}

interface PreLogin {
	admitted: Admitted;
	release: () => void;
	/** Cleared and dropped at login: a logged-in connection keeps no timer. */
	timer: NodeJS.Timeout | undefined;
}

export function createAdmission(options: AdmissionOptions): Admission {
	const {limiter, secureContext, stats} = options;
	const held = new Map<string, number>();
	/** Insertion order is age order: the first entry is the oldest. */
	const preLogin = new Set<PreLogin>();

	const hold = (raw: net.Socket, key: string) => {
		held.set(key, (held.get(key) ?? 0) + 1);
		raw.once('close', () => {
			const remaining = (held.get(key) ?? 1) - 1;
			if (remaining === 0) held.delete(key);
			else held.set(key, remaining);
		});
	};

	/** Frees the oldest pre-login slot, if any; true when one was freed. */
	const evictOldest = (): boolean => {
		const oldest = preLogin.values().next();
		if (oldest.done) return false;
		stats.evicted++;
		const entry = oldest.value;
		entry.admitted.loggedIn(); // out of the pre-login set, timer cleared
		entry.release(); // the slot is free now, not when the socket's close event comes
		entry.admitted.cutOff('the server is busy; log in faster');
		return true;
	};

	const admit = (address: string) => {
		let admission = limiter.tryAcquire(address);
		if (!admission.ok && admission.reason === 'total' && limiter.countFor(address) < limiter.maxPerAddress) {
			if (evictOldest()) admission = limiter.tryAcquire(address);
		}
		return admission;
	};

	const onConnection = (raw: net.Socket) => {
		raw.on('error', () => raw.destroy()); // a reset before we take over is no error of ours
		const address = raw.remoteAddress ?? 'unknown';
		const admission = admit(address);
		if (!admission.ok) {
			stats.refused++;
			if (secureContext === undefined) {
				// Plaintext costs nothing to explain; under TLS a word would need a handshake first.
				raw.end(encodeFrame(encodeJson({t: 'error', code: 'throttled', message: refusal(admission.reason)})));
				raw.destroySoon();
			} else raw.destroy();
			return;
		}
		hold(raw, addressKey(address));
		const socket =
			secureContext === undefined ? raw : new tls.TLSSocket(raw, {isServer: true, secureContext});
		const entry: PreLogin = {
			release: admission.release,
			admitted: {
				loggedIn: () => {
					clearTimeout(entry.timer);
					entry.timer = undefined;
					preLogin.delete(entry);
				},
				cutOff: () => socket.destroy(),
			},
			timer: setTimeout(() => {
				preLogin.delete(entry);
				entry.admitted.cutOff('login timed out');
			}, options.preLoginTimeoutMs),
		};
		entry.timer?.unref();
		preLogin.add(entry);
		socket.once('close', () => {
			entry.admitted.loggedIn();
			admission.release();
		});
		if (secureContext === undefined) {
			options.accept(socket, entry.admitted);
			return;
		}
		const onEarlyError = () => socket.destroy(); // a failed handshake is the client's problem, not ours
		socket.on('error', onEarlyError);
		socket.once('secure', () => {
			socket.off('error', onEarlyError);
			options.accept(socket, entry.admitted);
		});
	};

	return {
		onConnection,
		heldFrom: (address) => held.get(addressKey(address)) ?? 0,
		cutOffPreLogin: (reason) => {
			for (const entry of [...preLogin]) {
				entry.admitted.loggedIn();
				entry.admitted.cutOff(reason);
			}
		},
	};
}

function refusal(reason: 'per-address' | 'total'): string {
	return reason === 'per-address'
		? 'too many connections from your address'
		: 'the server is full, try again later';
}
