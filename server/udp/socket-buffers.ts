// The UDP socket's kernel buffers. The receive queue holds what arrives while
// the event loop is busy (a fan-out burst, a flood); the send queue holds a
// broadcast's copies until the NIC takes them. Linux grants at most
// net.core.rmem_max / wmem_max whatever we ask for (and reports twice what it
// granted, its bookkeeping overhead). We only read the caps and say when they
// bite: raising them is the operator's call (sysctl), not the server's.

import type dgram from 'node:dgram';
import {readFileSync} from 'node:fs';
import type {Log} from '../log/log.js';

export interface SocketBuffers {
	/** What the kernel reports for the socket (Linux: twice the bytes granted). */
	receive: number;
	send: number;
}

export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;

/** The kernel's cap for one socket buffer, where /proc tells it (Linux). */
function kernelCap(name: 'rmem_max' | 'wmem_max'): number | undefined {
	try {
		const value = Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
		return Number.isSafeInteger(value) && value > 0 ? value : undefined;
	} catch {
		return undefined;
	}
}

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 100) / 100} MiB`;

/**
 * Reads the bound socket's buffers and logs one line; a warning names the
 * sysctl when the kernel granted less than asked for.
 */
export function reportSocketBuffers(
	socket: dgram.Socket,
	wanted: {receive: number; send: number},
	log: Log,
): SocketBuffers {
	const buffers = {receive: socket.getRecvBufferSize(), send: socket.getSendBufferSize()};
	log(
		`udp socket buffers: receive ${buffers.receive} bytes, send ${buffers.send} bytes (as the kernel reports them; Linux counts twice what it grants)`,
	);
	const sides = [
		{side: 'receive', sysctl: 'net.core.rmem_max', asked: wanted.receive, got: buffers.receive},
		{side: 'send', sysctl: 'net.core.wmem_max', asked: wanted.send, got: buffers.send},
	] as const;
	for (const {side, sysctl, asked, got} of sides) {
		const cap = kernelCap(sysctl === 'net.core.rmem_max' ? 'rmem_max' : 'wmem_max');
		// Linux reports double what it granted, so "got < asked" alone misses a cap between asked/2 and asked.
		const capped = cap === undefined ? got < asked : asked > cap;
		if (!capped) continue;
		log(
			`udp ${side} buffer: asked for ${mib(asked)}, the kernel caps it at ${cap === undefined ? mib(got) : `${mib(cap)} (${sysctl})`}; ` +
				`bursts beyond it are dropped. To allow it: sysctl -w ${sysctl}=${asked}`,
			{level: 'warn'},
		);
	}
	return buffers;
}
