import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/, top first (README, Architecture). A module may import modules of lower
 * layers and files of its own folder, never a module of its own layer or above: the HTTP
 * plumbing stays below ingest and the read API, storage never reaches up into events, the domain
 * stays pure.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['start.ts'],
  ['ingest', 'api', 'dashboard', 'sql'],
  ['http'],
  ['stream', 'use-cases'],
  ['events'],
  ['storage'],
  ['kafka', 'themes', 'config', 'group-commit.ts', 'fresh-reads.ts'],
  ['domain', 'metrics.ts'],
  ['errors.ts', 'package-root.ts'],
];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The module a file of src/ belongs to: its top folder, or the file itself at the top. */
function moduleOf(file: string): string {
  return relative(SRC, file).split('/')[0] ?? '';
}

function layerOf(module: string): number {
  const layer = LAYERS.findIndex((names) => names.includes(module));
  if (layer === -1) throw new Error(`src/${module} is in no layer: add it to LAYERS`);
  return layer;
}

describe('layers', () => {
  it('every import of src/ goes to its own folder or a lower layer', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const from = moduleOf(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        if (spec === undefined) continue;
        const to = moduleOf(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
        if (to === from) continue;
        if (layerOf(to) <= layerOf(from)) upward.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('every module of src/ has its layer', () => {
    const modules = new Set(sources(SRC).map(moduleOf));
    for (const module of modules) expect(() => layerOf(module)).not.toThrow();
  });
});
