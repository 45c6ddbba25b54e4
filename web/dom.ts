/**
 * Small DOM helpers. Text always goes in as text nodes, never as HTML: comments are written by
 * customers.
 */

export function byId<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from the page`);
  return found;
}

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Fills a table: an optional caption, a header row and body rows; the first cell is a row header. */
export function fillTable(
  table: HTMLTableElement,
  head: readonly string[],
  rows: readonly (readonly Child[])[],
  caption?: string,
): void {
  table.replaceChildren(
    ...(caption ? [el('caption', {}, caption)] : []),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
    el(
      'tbody',
      {},
      ...rows.map((row) =>
        el(
          'tr',
          {},
          ...row.map((cell, i) =>
            i === 0 ? el('th', { scope: 'row' }, cell) : el('td', {}, cell),
          ),
        ),
      ),
    ),
  );
}

export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}
