// The IPC plumbing every benchmark child process shares: send to the runner,
// dispatch the runner's messages to one handler per type (a failed async
// handler is reported as an `error` message, not a crash), and close the
// clients and exit on `quit` or when the runner goes away.

import process from 'node:process';

/** A child's message to its runner: one of its own, or the error every child may send. */
type ErrorReply = {type: 'error'; message: string};

/** Sends `message` to the runner, if there is one listening. */
export function sendToRunner<M>(message: M): void {
	process.send?.(message);
}

type Handlers<M extends {type: string}> = {
	[K in M['type']]: (message: Extract<M, {type: K}>) => void | Promise<void>;
};

/**
 * Hands each message from the runner to the handler for its type. A handler
 * that returns a promise and rejects is reported as "TYPE failed: ERROR".
 * Exits when the runner disconnects.
 */
export function serveRunner<M extends {type: string}>(handlers: Handlers<M>): void {
	process.on('message', (raw: unknown) => {
		const message = raw as M;
		const handler = handlers[message.type as M['type']] as (message: M) => void | Promise<void>;
		const done = handler(message);
		if (done)
			done.catch((error: unknown) =>
				sendToRunner<ErrorReply>({type: 'error', message: `${message.type} failed: ${String(error)}`}),
			);
	});
	process.on('disconnect', () => process.exit(0));
}

/** The `quit` handler: closes every client (failures ignored), then leaves. */
export async function closeAndExit(clients: Iterable<{close(): Promise<unknown> | unknown}>): Promise<void> {
	await Promise.allSettled([...clients].map(async (client) => client.close()));
	process.disconnect?.();
	process.exit(0);
}
