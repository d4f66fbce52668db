// tsc copies only .ts output; the functions' assets (the sample image) must sit
// beside the compiled functions so that they resolve the same way in dist/.
import { chmodSync, cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/functions', { recursive: true });
cpSync('functions/assets', 'dist/functions/assets', { recursive: true });
// The JSON Schemas: published in schemas/, read at run time from dist/schemas (every package of dist has them).
cpSync('schemas', 'dist/schemas', { recursive: true });
// package.json's bin: npx runs it as a program, and tsc writes it without the execute bit.
chmodSync('dist/src/cli.js', 0o755);
