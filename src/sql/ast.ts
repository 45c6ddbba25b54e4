/**
 * The engine's own parse of a statement, as `EXPLAIN AST` prints it: one node a line, indented one
 * space per level, `<Type>[ <name>][ (alias <a>)][ (children N)]`.
 *
 * Names are printed raw, so a quoted identifier holding a line break can add lines of its own
 * choosing. The guard is written so that such lines can only add things to check, never hide a
 * real node: a real node's type and name always start its own line at its true depth, and the
 * rules that depend on position look only at a line and the one printed right before it.
 */
export interface AstLine {
  readonly depth: number;
  /** Node type: SelectWithUnionQuery, TableIdentifier, Function, Literal, ... */
  readonly type: string;
  /** The first word after the type: a function, table or identifier name. */
  readonly name: string;
  /** Everything after the type, without a trailing children count. */
  readonly label: string;
}

const LINE = /^( *)(\S+)(.*)$/;

/** The lines of a dump; a line that does not read as a node comes back with an empty type. */
export function parseAstDump(dump: string): AstLine[] {
  const lines: AstLine[] = [];
  for (const raw of dump.split('\n')) {
    if (raw.trim() === '') continue;
    const match = LINE.exec(raw);
    if (!match) {
      lines.push({ depth: 0, type: '', name: '', label: raw });
      continue;
    }
    const [, indent = '', type = '', rest = ''] = match;
    const label = rest.replace(/ \(children \d+\)$/, '').trim();
    // The first word only: whatever a quoted name adds after a space cannot change the word a
    // check compares, and an alias suffix is dropped with it.
    const name = label.split(/\s+/)[0] ?? '';
    lines.push({ depth: indent.length, type, name, label });
  }
  return lines;
}
