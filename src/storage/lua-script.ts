import { readFileSync } from 'node:fs';
import { fromPackageRoot } from '../package-root.js';

/** Where the Redis scripts are: source files, read at run time from src and from dist alike. */
export const LUA_DIR = fromPackageRoot('src', 'storage', 'lua');

/** A constant as the script writes it: `local NAME = 1` or `local NAME = 'other'`. */
export function luaConstantLine(name: string, value: number | string): string {
  return `local ${name} = ${typeof value === 'number' ? String(value) : `'${value}'`}`;
}

/**
 * Reads `src/storage/lua/<name>.lua`. Reply codes and other values shared with TypeScript are owned
 * by the TypeScript module and passed here; the script declares each one as a `local` line, and a
 * script that declares another value (or none) is refused at load, so the two cannot drift.
 */
export function luaScript(name: string, constants: Record<string, number | string> = {}): string {
  const source = readFileSync(`${LUA_DIR}/${name}.lua`, 'utf8');
  const lines = new Set(source.split('\n').map((line) => line.trim()));
  for (const [constant, value] of Object.entries(constants)) {
    const expected = luaConstantLine(constant, value);
    if (!lines.has(expected)) throw new Error(`${name}.lua must declare "${expected}"`);
  }
  return source;
}
