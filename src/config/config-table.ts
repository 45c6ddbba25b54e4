import { settings } from './config.js';

/** Where README.md holds the generated table (`npm run docs:config` writes between them). */
export const TABLE_START = '<!-- config-table:start (npm run docs:config) -->';
export const TABLE_END = '<!-- config-table:end -->';

// Fallbacks that depend on the environment are shown in its terms: a folder under ~, the port.
const SHOWN_ENV = { HOME: '~', PORT: '$PORT' };

/** One row per setting, in the order of `settings`: variable, default and meaning (Markdown). */
export function configRows(): [variable: string, shownDefault: string, meaning: string][] {
  return Object.values(settings).map((setting) => {
    let shown: string;
    if ('shownDefault' in setting) shown = setting.shownDefault;
    else if ('fallback' in setting) {
      const value = setting.fallback(SHOWN_ENV);
      shown = value === '' ? 'none' : `\`${value}\``;
    } else shown = 'none';
    return [`\`${setting.env}\``, shown, setting.doc];
  });
}

/** The README's configuration table, before Prettier pads its columns. */
export function configTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  return [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...configRows().map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}
