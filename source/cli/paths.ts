// Where Parley keeps files, following the XDG base directory spec.
import {homedir} from 'node:os';
import path from 'node:path';

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'parley');
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'parley');
}
