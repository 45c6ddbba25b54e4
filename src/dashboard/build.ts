import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PACKAGE_ROOT } from '../package-root.js';
import { BUILT_DASHBOARD } from './router.js';

/**
 * Builds the dashboard page (web/) into dist/web: one script and one stylesheet bundled by esbuild
 * with uPlot inside, under content-hashed names so they can be cached for a year, and index.html
 * naming them. Run by `npm run build` (so by `npm ci` and `npm start`) and `npm run build:web`;
 * nothing is fetched.
 */

const ROOT = PACKAGE_ROOT;
const WEB = join(ROOT, 'web');

function hashed(name: string, content: Buffer | string): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}-${hash}${name.slice(dot)}`;
}

export async function buildDashboard(outDir: string = BUILT_DASHBOARD): Promise<string> {
  // Built beside the target and swapped in whole, so a running server never serves half a build.
  const draft = `${outDir}.draft-${process.pid}`;
  rmSync(draft, { recursive: true, force: true });
  const assets = join(draft, 'assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB, 'app.ts') },
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox113', 'safari16.4'],
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    outdir: assets,
    metafile: true,
    logLevel: 'warning',
    banner: { js: '/*! uPlot (c) Leon Sorokin, MIT License, github.com/leeoniya/uPlot */' },
  });
  const entry = Object.entries(result.metafile.outputs).find(
    ([, output]) => output.entryPoint !== undefined && output.entryPoint.endsWith('app.ts'),
  );
  if (!entry?.[1].cssBundle) throw new Error('esbuild produced no app script and stylesheet');
  const script = basename(entry[0]);
  const style = basename(entry[1].cssBundle);
  const icon = readFileSync(join(WEB, 'favicon.svg'));
  const iconName = hashed('favicon.svg', icon);
  writeFileSync(join(assets, iconName), icon);
  const html = readFileSync(join(WEB, 'index.html'), 'utf8')
    .replaceAll('%APP_JS%', `/assets/${script}`)
    .replaceAll('%APP_CSS%', `/assets/${style}`)
    .replaceAll('%FAVICON%', `/assets/${iconName}`);
  writeFileSync(join(draft, 'index.html'), html);
  mkdirSync(dirname(outDir), { recursive: true });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(draft, outDir);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildDashboard().then(
    (dir) => {
      console.log(`dashboard built into ${relative(process.cwd(), dir) || dir}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
