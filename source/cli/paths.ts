// Where Parley keeps files, following the XDG base directory spec: settings
// (rooms.json, known_hosts) in the config directory, what it makes itself
// (the server's identity, accounts, logs) in the data directory. Every path
// Parley picks on its own starts here.
import {homedir} from 'node:os';
import path from 'node:path';

/** The variable's directory, or the fallback: the spec says an empty or relative value is to be ignored. */
function baseDir(value: string | undefined, fallback: string): string {
	return value !== undefined && path.isAbsolute(value) ? value : fallback;
}

export function configDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
	return path.join(baseDir(env.XDG_CONFIG_HOME, path.join(home, '.config')), 'parley');
}

export function dataDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
	return path.join(baseDir(env.XDG_DATA_HOME, path.join(home, '.local', 'share')), 'parley');
}

/** What Parley remembers between runs that is neither setting nor data (the rooms open at the last quit). */
export function stateDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
	return path.join(baseDir(env.XDG_STATE_HOME, path.join(home, '.local', 'state')), 'parley');
}
