// Generates protocol/parley.schema.json from the valibot schemas, the one
// definition of the wire protocol, for implementers in other languages.
// `npm run schema` writes it; a test fails when the checked-in file is stale.

import {writeFile} from 'node:fs/promises';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {toJsonSchemaDefs} from '@valibot/to-json-schema';
import * as v from 'valibot';
import {AuthClientMessageSchema, AuthServerMessageSchema} from '../source/protocol/auth-messages.js';
import {UdpClientDatagramSchema} from '../source/protocol/datagram.js';
import {FileClientMessageSchema, FileServerMessageSchema} from '../source/protocol/file-messages.js';
import {ClientMessageSchema, ServerMessageSchema} from '../source/protocol/messages.js';
import {PROTOCOL_VERSIONS} from '../source/protocol/versions.js';

export const SCHEMA_PATH = fileURLToPath(new URL('../../protocol/parley.schema.json', import.meta.url));

export function protocolJsonSchema(): Record<string, unknown> {
	const definitions = toJsonSchemaDefs(
		{
			ClientMessage: ClientMessageSchema,
			ServerMessage: ServerMessageSchema,
			AuthClientMessage: AuthClientMessageSchema,
			AuthServerMessage: AuthServerMessageSchema,
			FileClientMessage: FileClientMessageSchema,
			FileServerMessage: FileServerMessageSchema,
			// What one TCP frame may carry: login messages first, room (and file) messages after auth-ok.
			TcpClientFrame: v.union([AuthClientMessageSchema, ClientMessageSchema, FileClientMessageSchema]),
			TcpServerFrame: v.union([AuthServerMessageSchema, ServerMessageSchema, FileServerMessageSchema]),
			// What one UDP datagram (or reassembled fragment series) carries.
			UdpClientDatagram: UdpClientDatagramSchema,
			UdpServerDatagram: ServerMessageSchema,
		},
		// A field's `default` is what a client assumes when an (older) server leaves it
		// out. `finite` needs no JSON Schema: JSON has no NaN or Infinity.
		{target: 'draft-2020-12', errorMode: 'throw', ignoreActions: ['finite']},
	);
	return {
		$schema: 'https://json-schema.org/draft/2020-12/schema',
		$id: 'parley.schema.json',
		title: 'Parley wire protocol',
		description:
			`Protocol versions ${PROTOCOL_VERSIONS.join(', ')}. Generated from source/protocol by npm run schema; ` +
			'see PROTOCOL.md. Client messages refuse unknown keys; server messages may gain keys, which clients ignore.',
		$defs: definitions,
	};
}

export function renderProtocolJsonSchema(): string {
	return `${JSON.stringify(protocolJsonSchema(), null, '\t')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	await writeFile(SCHEMA_PATH, renderProtocolJsonSchema());
	console.log(`wrote ${SCHEMA_PATH}`);
}
