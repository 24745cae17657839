// What a file transfer needs of a connection: to send file frames, to see how
// much is still waiting to be written (so chunks go only when little is, and
// chat frames never queue behind much), and to hear file frames back.

import type {FileClientMessage, FileServerMessage} from '../protocol/file-messages.js';
import type {ServerMessage} from '../protocol/messages.js';
import type {Transport} from './transport.js';

/** Refs of file requests start with this: their errors go to the transfer. */
export const FILE_REF_PREFIX = 'fx-';

export type FileFrame = FileServerMessage | Extract<ServerMessage, {t: 'error'}> | {t: 'link-lost'};

export interface FileLink {
	readonly isOpen: boolean;
	sendFile(message: FileClientMessage): void;
	readonly backlogBytes: number;
	/** Resolves once what was written has gone to the kernel (or the socket closed). */
	whenDrained(): Promise<void>;
	addFileListener(listener: (frame: FileFrame) => void): () => void;
}

/** The file link under a room's transport: a TCP transport itself, or the shared connection under a room channel. */
export function fileLinkOf(transport: Transport): FileLink | undefined {
	const candidate = (transport as {shared?: {transport?: unknown}}).shared?.transport ?? transport;
	const link = candidate as Partial<FileLink>;
	return typeof link.sendFile === 'function' && typeof link.addFileListener === 'function'
		? (candidate as FileLink)
		: undefined;
}
