import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { TABLE_END, TABLE_START, configTable } from '../src/config/config-table.js';
import { fromPackageRoot } from '../src/package-root.js';

/**
 * Writes the configuration table of README.md from the settings in src/config/config.ts (between
 * the config-table markers), formatted as `prettier --check` expects. tests/unit/config.test.ts
 * fails when the two differ.
 */
const README = fromPackageRoot('README.md');
const text = readFileSync(README, 'utf8');
const start = text.indexOf(TABLE_START);
const end = text.indexOf(TABLE_END);
if (start < 0 || end < start) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END}`);
const next = `${text.slice(0, start + TABLE_START.length)}\n\n${configTable()}\n\n${text.slice(end)}`;
const formatted = await format(next, { ...(await resolveConfig(README)), filepath: README });
writeFileSync(README, formatted);
console.log(formatted === text ? 'README.md: table unchanged' : 'README.md: table written');
