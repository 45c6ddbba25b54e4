import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of this package (where package.json is), found by walking up from this module, so
 * data files (schemas, Lua scripts, the built dashboard) are found the same way whether the code
 * runs from src/ through a TypeScript loader or compiled from dist/src/.
 */
function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'nps-pipeline') return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no nps-pipeline package.json above ${start}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. `fromPackageRoot('schemas', 'nps-response.avsc')`. */
export function fromPackageRoot(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
