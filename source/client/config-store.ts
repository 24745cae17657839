// The settings a running chat uses: the config file as last read, with the
// command-line flags on top (a flag always wins, after /reload too). /reload
// reads the file again; a bad file keeps the settings in use and says why.
// /ignore and /unignore change the ignore list and write it back to the file.

import {identityKey} from '../protocol/names.js';
import {type ClientConfig, type ConfigEnvironment, loadConfigSync, saveIgnoreList} from './config.js';

/** The settings a flag on the command line fixed for this run. */
export type ConfigOverrides = Partial<
	Pick<ClientConfig, 'nick' | 'user' | 'scrollback' | 'bell' | 'logDir' | 'acceptNew' | 'insecurePlaintext'>
>;

export class ConfigStore {
	private config: ClientConfig;
	private readonly listeners = new Set<() => void>();

	/** Reads the file now (throws ConfigError), or starts from `initial` (tests, a screen without a file). */
	constructor(
		/** The config file; undefined: nothing to reload or save (the ignore list lives for this run only). */
		readonly file: string | undefined,
		private readonly overrides: ConfigOverrides = {},
		private readonly env: ConfigEnvironment = {},
		initial?: ClientConfig,
	) {
		this.config = this.withOverrides(
			initial ?? loadConfigSync(file ?? '/nonexistent/parley-config.toml', env),
		);
	}

	get current(): ClientConfig {
		return this.config;
	}

	subscribe(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	private withOverrides(config: ClientConfig): ClientConfig {
		const flags = Object.fromEntries(
			Object.entries(this.overrides).filter(([, value]) => value !== undefined),
		);
		return {...config, ...flags};
	}

	private replace(config: ClientConfig): void {
		this.config = config;
		for (const listener of [...this.listeners]) listener();
	}

	/** Reads the file again; throws ConfigError (and keeps the settings in use) when it is bad. */
	reload(): ClientConfig {
		if (this.file === undefined) throw new Error('there is no config file to reload');
		this.replace(this.withOverrides(loadConfigSync(this.file, this.env)));
		return this.config;
	}

	isIgnored(nick: string): boolean {
		const key = identityKey(nick);
		return this.config.ignore.some((ignored) => identityKey(ignored) === key);
	}

	/** Adds or removes a nick (compared as the server compares nicks); saved to the file. False when nothing changed. */
	async setIgnored(nick: string, ignored: boolean): Promise<boolean> {
		if (this.isIgnored(nick) === ignored) return false;
		const key = identityKey(nick);
		const ignore = ignored
			? [...this.config.ignore, nick]
			: this.config.ignore.filter((other) => identityKey(other) !== key);
		if (this.file !== undefined) await saveIgnoreList(this.file, ignore);
		this.replace({...this.config, ignore});
		return true;
	}
}
