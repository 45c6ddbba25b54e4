#!/usr/bin/env node
// The nps command: runs the compiled JavaScript in dist/, which `npm ci` (prepare) and `npm start`
// build; development runs the sources through tsx instead (tests/support/child.ts).
import console from 'node:console';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const entry = new URL('../dist/src/cli/nps.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('nps: dist/src/cli/nps.js is missing; build it with `npm run build`');
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(entry.href);
