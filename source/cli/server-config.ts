// `parley serve`'s settings from three places: flags win, then an environment
// variable (for secrets such as PARLEY_DB_URL), then server.toml, then the
// defaults of the options table. The file is checked as strictly as the chat's
// config.toml: a misspelt key or a bad value is an error naming its line and key.

import {readFileSync} from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import {ConfigError, lineOfKey, parseTomlWith} from '../client/config.js';
import {configDir} from './paths.js';
import {
	OPTION_NAMES,
	type OptionName,
	type ServeSettings,
	aliasNamesOf,
	configKeyOf,
	flagOf,
	specOf,
} from './serve-options.js';

/** A mistake in the invocation, the environment or the file: exit status 2. */
export class ServeUsageError extends Error {
	override name = 'ServeUsageError';
}

export const defaultServerConfigFile = (env: NodeJS.ProcessEnv = process.env): string =>
	path.join(configDir(env), 'server.toml');

/** The file's keys: every option's (and its older names'), not the command-line switches. */
const fileKeys = (): Array<{key: string; name: OptionName}> =>
	OPTION_NAMES.filter((name) => specOf(name).cliOnly !== true).flatMap((name) => [
		{key: configKeyOf(name), name},
		...aliasNamesOf(name).map((alias) => ({key: configKeyOf(alias), name})),
	]);

const FileSchema = v.strictObject(
	Object.fromEntries(fileKeys().map(({key, name}) => [key, v.optional(specOf(name).check)])),
	'unknown key',
);

/** The settings a server.toml text gives, by option name. Throws ConfigError naming the line and key. */
export function parseServerConfig(text: string, fileName: string): Partial<Record<OptionName, unknown>> {
	const parsed = parseTomlWith(FileSchema, text, fileName);
	const values: Partial<Record<OptionName, unknown>> = {};
	const from: Partial<Record<OptionName, string>> = {};
	for (const {key, name} of fileKeys()) {
		const value = (parsed as Record<string, unknown>)[key];
		if (value === undefined) continue;
		const earlier = from[name];
		if (earlier !== undefined) {
			const line = lineOfKey(text, key);
			throw new ConfigError(
				`${fileName}${line === undefined ? '' : `:${line}`}: ${key}: the same setting as ${earlier}; keep one`,
				line,
			);
		}
		from[name] = key;
		values[name] = value;
	}
	return values;
}

/** Reads `file`; a missing default file is no file (undefined), a missing named one an error. */
export function loadServerConfig(
	file: string,
	{required}: {required: boolean},
): Partial<Record<OptionName, unknown>> | undefined {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
		if (missing && !required) return undefined;
		throw new ConfigError(`${file}: ${missing ? 'no such file' : (error as Error).message}`, undefined);
	}
	return parseServerConfig(text, file);
}

function checked(name: OptionName, value: unknown, source: string): unknown {
	const result = v.safeParse(specOf(name).check, value);
	if (!result.success) throw new ServeUsageError(`${source}: ${result.issues[0].message}`);
	return result.output;
}

/**
 * The settings: each flag meow parsed (absent when not given), else the
 * option's environment variable, else the file, else the table's default.
 * Throws ServeUsageError or ConfigError.
 */
export function resolveServeSettings(
	flags: Readonly<Record<string, unknown>>,
	env: NodeJS.ProcessEnv = process.env,
	/** Told the config file read, if any (the server logs it). */
	onFile: (file: string) => void = () => {},
): ServeSettings {
	const given = (name: OptionName): unknown =>
		flags[name] === undefined ? undefined : checked(name, flags[name], flagOf(name));
	const configFlag = given('config') as string | undefined;
	const configFile = configFlag ?? defaultServerConfigFile(env);
	const loaded = loadServerConfig(configFile, {required: configFlag !== undefined});
	if (loaded !== undefined) onFile(configFile);
	const file = loaded ?? {};
	const settings: Record<string, unknown> = {};
	for (const name of OPTION_NAMES) {
		const spec = specOf(name);
		const fromEnv = spec.env === undefined ? undefined : env[spec.env] || undefined;
		settings[name] =
			given(name) ??
			(fromEnv === undefined ? undefined : checked(name, fromEnv, spec.env!)) ??
			file[name] ??
			spec.default;
	}
	return settings as ServeSettings;
}
