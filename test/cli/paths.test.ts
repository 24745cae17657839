import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {configDir, dataDir} from '../../source/cli/paths.js';

describe('XDG paths', () => {
	it('uses XDG_CONFIG_HOME and XDG_DATA_HOME when they are absolute', () => {
		assert.equal(configDir({XDG_CONFIG_HOME: '/x/cfg'}, '/home/u'), '/x/cfg/parley');
		assert.equal(dataDir({XDG_DATA_HOME: '/x/data'}, '/home/u'), '/x/data/parley');
	});

	it('falls back to ~/.config and ~/.local/share when they are unset, empty or relative', () => {
		for (const value of [undefined, '', 'relative/dir']) {
			assert.equal(configDir({XDG_CONFIG_HOME: value}, '/home/u'), '/home/u/.config/parley');
			assert.equal(dataDir({XDG_DATA_HOME: value}, '/home/u'), '/home/u/.local/share/parley');
		}
	});
});
