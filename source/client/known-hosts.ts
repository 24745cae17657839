// Trust on first use for self-signed servers, as ssh does: the first
// connection records the certificate fingerprint, later connections must
// present the same one. One line per server: "host:port SHA256:base64".

import {mkdir, readFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {configDir} from '../cli/paths.js';
import {writeFileAtomically} from '../util/atomic-write.js';

export type HostCheck = 'known' | 'new' | {changed: string};

const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]+=*$/;

export function defaultKnownHostsPath(
	env: NodeJS.ProcessEnv = process.env,
	home: string = homedir(),
): string {
	return join(configDir(env, home), 'known_hosts');
}

/** Host names are case-insensitive; a key with whitespace would corrupt the file. */
function hostKey(hostPort: string): string {
	const key = hostPort.trim().toLowerCase();
	if (key.length === 0 || /\s/.test(key)) throw new Error(`invalid host:port ${JSON.stringify(hostPort)}`);
	return key;
}

function checkFingerprint(fingerprint: string): string {
	if (!FINGERPRINT_PATTERN.test(fingerprint))
		throw new Error(`invalid fingerprint ${JSON.stringify(fingerprint)}`);
	return fingerprint;
}

interface Entry {
	host: string;
	fingerprint: string;
}

function parseLine(line: string): Entry | undefined {
	const trimmed = line.trim();
	if (trimmed === '' || trimmed.startsWith('#')) return undefined;
	const [host, fingerprint] = trimmed.split(/\s+/);
	if (host === undefined || fingerprint === undefined) return undefined;
	return {host: host.toLowerCase(), fingerprint};
}

export class KnownHosts {
	constructor(readonly path: string = defaultKnownHostsPath()) {}

	async check(hostPort: string, fingerprint: string): Promise<HostCheck> {
		const host = hostKey(hostPort);
		checkFingerprint(fingerprint);
		const entry = (await this.#readLines()).map(parseLine).find((e) => e?.host === host);
		if (entry === undefined) return 'new';
		return entry.fingerprint === fingerprint ? 'known' : {changed: entry.fingerprint};
	}

	/** Records (or replaces) the fingerprint for a server, keeping every other line as it was. */
	async remember(hostPort: string, fingerprint: string): Promise<void> {
		const host = hostKey(hostPort);
		checkFingerprint(fingerprint);
		const kept = (await this.#readLines()).filter(
			(line) => parseLine(line)?.host !== host && line.trim() !== '',
		);
		kept.push(`${host} ${fingerprint}`);
		await this.#writeAtomically(`${kept.join('\n')}\n`);
	}

	async #readLines(): Promise<string[]> {
		try {
			return (await readFile(this.path, 'utf8')).split('\n');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
			throw error;
		}
	}

	/** Write-then-rename, so a crash never leaves a half-written file that forgets servers. */
	async #writeAtomically(content: string): Promise<void> {
		await mkdir(dirname(this.path), {recursive: true, mode: 0o700});
		await writeFileAtomically(this.path, content);
	}
}
