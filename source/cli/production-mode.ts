// Imported first by cli.tsx, before React loads: React picks its build from
// NODE_ENV when it loads, and without it runs the development build, which
// checks and traces every render and costs the chat several times the CPU
// under a busy room. NODE_ENV=development still gets it.
import process from 'node:process';

process.env.NODE_ENV ??= 'production';
