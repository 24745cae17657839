#!/usr/bin/env node
// Parley's executable. It checks the Node version before anything else loads:
// the rest imports node:sqlite, which older versions refuse at import time with
// a stack trace instead of a sentence. So no static imports here but the check.
import {nodeVersionProblem} from './source/cli/node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem === undefined) await import('./cli.js');
else {
	process.stderr.write(`${problem}\n`);
	process.exitCode = 2;
}
