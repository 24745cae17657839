// Accept-time admission of TCP connections: the per-address and total limits,
// a short refusal for those over them, and the TLS wrapping of those admitted.

import type net from 'node:net';
import tls from 'node:tls';
import {encodeFrame} from '../../source/protocol/framing.js';
import {encodeJson} from '../../source/protocol/messages.js';
import type {ConnectionLimiter} from '../auth/connection-limiter.js';

export interface AdmissionOptions {
	limiter: ConnectionLimiter;
	/** undefined: plaintext (only behind an explicit flag). */
	secureContext: tls.SecureContext | undefined;
	/** A client that has not finished its TLS handshake by then is cut off. */
	handshakeTimeoutMs: number;
	/** Over-limit clients still hear why, but only this many at once: beyond it they are cut off without a word. */
	maxRefusing: number;
	/** An admitted connection, TLS already up; call release() when it closes. */
	accept(socket: net.Socket, release: () => void): void;
}

/** The listener for net.createServer: admits, refuses or drops each raw socket. */
export function admitConnections(options: AdmissionOptions): (raw: net.Socket) => void {
	const {limiter, secureContext} = options;
	let refusing = 0;
	const refuse = (socket: net.Socket, reason: string) => {
		refusing++;
		socket.once('close', () => refusing--);
		socket.on('error', () => socket.destroy());
		socket.end(encodeFrame(encodeJson({t: 'error', code: 'throttled', message: reason})));
		setTimeout(() => socket.destroy(), 1000).unref();
	};
	// Connections are counted on the raw socket, before any TLS work, so a
	// client that never finishes (or never starts) a handshake still uses a slot.
	return (raw) => {
		raw.on('error', () => raw.destroy()); // a reset before we take over is no error of ours
		const address = raw.remoteAddress ?? 'unknown';
		const admission = limiter.tryAcquire(address);
		if (!admission.ok && refusing >= options.maxRefusing) {
			raw.destroy();
			return;
		}
		const reason = admission.ok
			? undefined
			: admission.reason === 'per-address'
				? 'too many connections from your address'
				: 'the server is full, try again later';
		if (secureContext === undefined) {
			if (admission.ok) options.accept(raw, admission.release);
			else refuse(raw, reason!);
			return;
		}
		const socket = new tls.TLSSocket(raw, {isServer: true, secureContext});
		const handshakeTimer = setTimeout(() => socket.destroy(), options.handshakeTimeoutMs);
		handshakeTimer.unref();
		const onEarlyError = () => socket.destroy(); // a failed handshake is the client's problem, not ours
		socket.on('error', onEarlyError);
		let accepted = false;
		socket.once('close', () => {
			clearTimeout(handshakeTimer);
			if (admission.ok && !accepted) admission.release();
		});
		socket.once('secure', () => {
			clearTimeout(handshakeTimer);
			socket.off('error', onEarlyError);
			if (!admission.ok) return refuse(socket, reason!);
			accepted = true;
			options.accept(socket, admission.release);
		});
	};
}
