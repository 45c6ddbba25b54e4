import type { AstLine } from './ast.js';
import { SqlError } from './errors.js';

/**
 * The read-only guard: decides from the engine's own parse of a statement (EXPLAIN AST, see
 * ast.ts) whether it may run, by allow-lists of statement kinds, tables and table functions. It
 * is one of three layers: the statement also runs with `readonly = 1` (no writes, DDL, SET or
 * settings in the query), and system tables are filtered to the product's database by the
 * engine's `additional_table_filters` (see engine.ts).
 */

/** Statement kinds that only read; the root node of the statement's AST. */
const STATEMENTS = new Set([
  'SelectWithUnionQuery',
  'ShowTables', // SHOW TABLES, DATABASES, DICTIONARIES, SETTINGS: read system tables, filtered
  'ShowColumns', // SHOW COLUMNS, SHOW INDEXES: likewise
  'ShowFunctions',
  'ShowEngineQuery',
  'DescribeQuery',
  'ExistsTableQuery',
  'ShowCreateTableQuery',
  'Explain', // of a SELECT only, checked below
]);

/**
 * System tables a client needs to browse the database, and the column that ties a row to a
 * database: rows are limited to the product's database by that column (engine.ts). Tables without
 * one describe the engine (functions, types, formats), not data.
 */
export const SYSTEM_TABLES: Readonly<Record<string, string | null>> = {
  databases: 'name',
  tables: 'database',
  columns: 'database',
  data_skipping_indices: 'database',
  parts: 'database',
  dictionaries: 'database',
  one: null,
  numbers: null,
  numbers_mt: null,
  zeros: null,
  zeros_mt: null,
  functions: null,
  table_functions: null,
  aggregate_function_combinators: null,
  data_type_families: null,
  formats: null,
  table_engines: null,
  collations: null,
  time_zones: null,
  keywords: null,
  settings: null,
  build_options: null,
};

/** Table functions that only generate rows in memory. */
const TABLE_FUNCTIONS = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generate_series',
  'generateseries',
  'values',
  'null',
]);

/**
 * Ordinary functions that reach outside the query: a file on disk, another table by name, a
 * dictionary and its source, a model file. Any dict* function is refused as well.
 */
const FUNCTIONS = new Set([
  'file',
  'joinget',
  'joingetornull',
  'hascolumnintable',
  'catboostevaluate',
  'naivebayesclassifier',
  'getmacro',
]);

export interface GuardPolicy {
  /** The product's database: every table in it may be read. */
  readonly database: string;
  /** Every database the engine has, to tell `db.table` from `alias.column` in an identifier. */
  readonly databases: ReadonlySet<string>;
  /** Output format names, lower-cased, to their canonical spelling. */
  readonly outputFormats: ReadonlyMap<string, string>;
  /** Table functions (lower-cased) that are not also ordinary functions: refused anywhere. */
  readonly tableFunctions: ReadonlySet<string>;
}

export interface Verdict {
  /** Root node type: SelectWithUnionQuery, ShowTables, ... */
  readonly kind: string;
  /** The statement's own FORMAT clause, canonical spelling, if it has one. */
  readonly format?: string;
}

const denied = (message: string) => SqlError.of('ACCESS_DENIED', message);

function checkTable(name: string, policy: GuardPolicy): void {
  const parts = name.split('.');
  if (parts.length === 1) return; // the current database (the product's) or a WITH name
  const [db = '', table = ''] = parts;
  if (parts.length === 2) {
    if (db === policy.database) return;
    if (db === 'system' && Object.hasOwn(SYSTEM_TABLES, table)) return;
    if (db.toLowerCase() === 'information_schema') return; // views over the filtered tables
  }
  throw denied(
    `Not enough privileges to read ${name}: this endpoint reads the ${policy.database} database ` +
      `and, to browse it, information_schema and some system tables`,
  );
}

/** Throws a ClickHouse-style error unless the parsed statement may run. */
export function checkStatement(lines: readonly AstLine[], policy: GuardPolicy): Verdict {
  const [root] = lines;
  if (!root || root.depth !== 0) throw SqlError.of('SYNTAX_ERROR', 'Empty query');
  for (const [i, line] of lines.entries()) {
    const previous = lines[i - 1];
    // A tree printed one level at a time, with one root. Anything else came from a quoted name
    // with a line break in it: refuse rather than guess.
    if (line.type === '' || (previous && (line.depth === 0 || line.depth > previous.depth + 1))) {
      throw denied('Names with line breaks are not supported on this endpoint');
    }
  }
  // ACCESS_DENIED rather than ClickHouse's READONLY (164): the Java client retries 164, which
  // it takes for a replica that is read-only for a while, and this endpoint always will be.
  if (!STATEMENTS.has(root.type)) {
    throw denied(
      `Not enough privileges: this endpoint is read-only and runs SELECT, SHOW, DESCRIBE, ` +
        `EXISTS and EXPLAIN of a SELECT, not ${root.label === '' ? root.type : `${root.type} ${root.label}`}`,
    );
  }

  let format: string | undefined;
  for (const [i, line] of lines.entries()) {
    const lower = line.name.toLowerCase();
    const previous = lines[i - 1];
    if (root.type === 'Explain' && line.depth === 1) {
      if (!['SelectWithUnionQuery', 'Set', 'Identifier'].includes(line.type)) {
        throw denied(
          `Not enough privileges: EXPLAIN of ${line.type} is not allowed, only of a SELECT`,
        );
      }
    }
    // A literal right under the statement is its INTO OUTFILE name, whatever the statement.
    if (
      line.type === 'Literal' &&
      (line.depth === 1 || (root.type === 'Explain' && line.depth === 2))
    ) {
      throw denied('INTO OUTFILE is not allowed on this endpoint');
    }
    if (line.type === 'TableIdentifier') checkTable(line.name, policy);
    if (line.type === 'Identifier') {
      // `db.table[.column]` names a table (in `x IN db.table`, or a column by its table).
      const [db, table] = line.name.split('.');
      if (table !== undefined && db !== undefined && policy.databases.has(db)) {
        checkTable(`${db}.${table}`, policy);
      }
      const formatDepth = line.depth === 1 || (root.type === 'Explain' && line.depth === 2);
      const canonical = policy.outputFormats.get(lower);
      if (formatDepth && canonical !== undefined) format = canonical;
    }
    if (line.type === 'Function') {
      // A table function is printed right under its TableExpression; one whose name is only a
      // table function (not also an ordinary function) is refused wherever it stands.
      const asTable = previous?.type === 'TableExpression' && previous.depth === line.depth - 1;
      const tableOnly = policy.tableFunctions.has(lower);
      if ((asTable || tableOnly) && !TABLE_FUNCTIONS.has(lower)) {
        throw denied(
          `Table function ${line.name} is not allowed: it could reach files, the network, ` +
            `processes or other tables. Allowed: ${[...TABLE_FUNCTIONS].join(', ')}`,
        );
      }
      if (FUNCTIONS.has(lower) || lower.startsWith('dict')) {
        throw denied(
          `Function ${line.name} is not allowed: it reads files, dictionaries or tables by name`,
        );
      }
    }
    if (line.type === 'ShowCreateTableQuery' || line.type === 'ExistsTableQuery') {
      const words = line.label.split(/\s+/);
      if (words.length > 2) throw denied('Names with spaces are not supported here');
      if (words.length === 2) checkTable(words.join('.'), policy);
    }
  }
  return { kind: root.type, ...(format !== undefined && { format }) };
}
