import { describe, expect, it } from 'vitest';
import { parseAstDump } from '../../src/sql/ast.js';
import { SqlError } from '../../src/sql/errors.js';
import { checkStatement } from '../../src/sql/guard.js';
import type { GuardPolicy } from '../../src/sql/guard.js';

/** `EXPLAIN AST` of each statement, as the embedded engine (ClickHouse 26.7) prints it. */
const DUMPS = {
  select:
    "SelectWithUnionQuery (children 2)\n ExpressionList (children 1)\n  SelectQuery (children 4)\n   ExpressionList (children 2)\n    Identifier survey_id\n    Function count (children 1)\n     ExpressionList\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier nps.responses\n   Function equals (children 1)\n    ExpressionList (children 2)\n     Identifier survey_id\n     Literal 'x'\n   ExpressionList (children 1)\n    Identifier survey_id\n Identifier csvwithnames\n",
  unqualified:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 3)\n   ExpressionList (children 1)\n    WithElement (children 1)\n     Subquery (children 1)\n      SelectWithUnionQuery (children 1)\n       ExpressionList (children 1)\n        SelectQuery (children 2)\n         ExpressionList (children 1)\n          Asterisk\n         TablesInSelectQuery (children 1)\n          TablesInSelectQueryElement (children 1)\n           TableExpression (children 1)\n            TableIdentifier responses\n   ExpressionList (children 1)\n    Function count (children 1)\n     ExpressionList\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier r\n',
  browse:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 3)\n   ExpressionList (children 2)\n    Identifier system.tables.database\n    Identifier name\n   TablesInSelectQuery (children 2)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier system.tables\n    TablesInSelectQueryElement (children 1)\n     ArrayJoin (children 1)\n      ExpressionList (children 1)\n       Literal Array_[UInt64_1] (alias x)\n   Function equals (children 1)\n    ExpressionList (children 2)\n     Identifier system.tables.database\n     Literal 'nps'\n",
  infoSchema:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier INFORMATION_SCHEMA.TABLES\n',
  generators:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 2)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      Function numbers (children 1)\n       ExpressionList (children 1)\n        Literal UInt64_3\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      Function VALUES (children 1)\n       ExpressionList (children 2)\n        Literal 'x UInt8'\n        Literal UInt64_1\n",
  explain:
    'Explain EXPLAIN (children 3)\n Set\n SelectWithUnionQuery (children 1)\n  ExpressionList (children 1)\n   SelectQuery (children 1)\n    ExpressionList (children 1)\n     Literal UInt64_1\n Identifier JSON\n',
  explainInsert:
    'Explain EXPLAIN PIPELINE (children 1)\n InsertQuery   (children 3)\n  Identifier nps\n  Identifier t\n  SelectWithUnionQuery (children 1)\n   ExpressionList (children 1)\n    SelectQuery (children 1)\n     ExpressionList (children 1)\n      Literal UInt64_1\n',
  explainOverride:
    "Explain EXPLAIN TABLE OVERRIDE (children 2)\n Function mysql (children 1)\n  ExpressionList (children 5)\n   Literal 'a'\n   Literal 'b'\n   Literal 'c'\n   Literal 'd'\n   Literal 'e'\n TableOverride  (children 1)\n  Storage definition (children 1)\n   Identifier x\n",
  insert: 'InsertQuery   (children 2)\n Identifier nps\n Identifier t\n',
  otherDb:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier other.secret\n',
  inOtherDb:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Function in (children 1)\n     ExpressionList (children 2)\n      Literal UInt64_1\n      Identifier other.secret\n',
  columnOfOtherDb:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Identifier other.secret.x\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      Function numbers (children 1)\n       ExpressionList (children 1)\n        Literal UInt64_1\n',
  aliasColumn:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Identifier r.score\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier responses (alias r)\n',
  systemUsers:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier system.users\n',
  dotted:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier nps.evil.t\n',
  tableFunction:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      Function file (children 1)\n       ExpressionList (children 1)\n        Literal '/etc/passwd'\n",
  tableFunctionInIn:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Function in (children 1)\n     ExpressionList (children 2)\n      Literal UInt64_1\n      Function remote (children 1)\n       ExpressionList (children 2)\n        Literal 'h'\n        Identifier system.one\n",
  scalarFile:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Function file (children 1)\n     ExpressionList (children 1)\n      Literal '/etc/hostname'\n",
  dict: "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Function dictGetOrDefault (children 1)\n     ExpressionList (children 4)\n      Literal 'd'\n      Literal 'a'\n      Literal UInt64_1\n      Literal UInt64_0\n",
  outfile:
    "SelectWithUnionQuery (children 2)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Literal UInt64_1\n Literal '/tmp/x'\n",
  showOutfile: "ShowTables (children 1)\n Literal '/tmp/x'\n",
  lineBreakAlias:
    'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Literal UInt64_1 (alias a\n TableIdentifier nps.t)\n',
  showCreateSystem:
    'ShowCreateTableQuery system users (children 2)\n Identifier system\n Identifier users\n',
  showCreate: 'ShowCreateTableQuery  responses (children 1)\n Identifier responses\n',
  describeUrl:
    "DescribeQuery (children 1)\n TableExpression (children 1)\n  Function url (children 1)\n   ExpressionList (children 2)\n    Literal 'http://x'\n    Identifier CSV\n",
  showTables: 'ShowTables (children 1)\n Identifier JSONEachRow\n',
  formatFunction:
    "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Function format (children 1)\n     ExpressionList (children 3)\n      Literal '{} {}'\n      Literal 'a'\n      Literal 'b'\n",
} as const;

const policy: GuardPolicy = {
  database: 'nps',
  databases: new Set([
    'nps',
    'other',
    'system',
    'default',
    'information_schema',
    'INFORMATION_SCHEMA',
  ]),
  outputFormats: new Map(
    ['CSVWithNames', 'JSON', 'JSONEachRow', 'TabSeparated'].map((f) => [f.toLowerCase(), f]),
  ),
  tableFunctions: new Set(['remote', 'merge', 'url', 's3', 'mysql', 'numbers', 'values']),
};

const check = (name: keyof typeof DUMPS) => checkStatement(parseAstDump(DUMPS[name]), policy);

function refusal(name: keyof typeof DUMPS): { code: number; message: string } {
  try {
    check(name);
  } catch (error) {
    if (error instanceof SqlError) return { code: error.clickhouseCode, message: error.message };
    throw error;
  }
  throw new Error(`${name} was allowed`);
}

describe('the read-only guard', () => {
  it('lets reads of the product database, its system tables and information_schema through', () => {
    for (const name of [
      'select',
      'unqualified',
      'browse',
      'infoSchema',
      'generators',
      'aliasColumn',
      'showCreate',
      'formatFunction',
    ] as const) {
      expect(() => check(name), name).not.toThrow();
    }
  });

  it("reads a statement's own FORMAT clause, in the engine's spelling", () => {
    expect(check('select')).toEqual({ kind: 'SelectWithUnionQuery', format: 'CSVWithNames' });
    expect(check('showTables')).toEqual({ kind: 'ShowTables', format: 'JSONEachRow' });
    expect(check('explain')).toEqual({ kind: 'Explain', format: 'JSON' });
    expect(check('unqualified')).toEqual({ kind: 'SelectWithUnionQuery' });
  });

  it('refuses statements that are not reads, also inside EXPLAIN', () => {
    for (const name of ['insert', 'explainInsert', 'explainOverride'] as const) {
      expect(refusal(name).code, name).toBe(497);
    }
    expect(refusal('insert').message).toMatch(/read-only.*InsertQuery/);
  });

  it('refuses other databases and system tables outside the allow-list, however they are named', () => {
    for (const name of [
      'otherDb',
      'inOtherDb',
      'columnOfOtherDb',
      'systemUsers',
      'dotted',
      'showCreateSystem',
    ] as const) {
      expect(refusal(name), name).toMatchObject({ code: 497, message: /Not enough privileges/ });
    }
  });

  it('refuses table functions and functions that reach files, the network or other tables', () => {
    expect(refusal('tableFunction').message).toMatch(/Table function file/);
    expect(refusal('tableFunctionInIn').message).toMatch(/Table function remote/);
    expect(refusal('describeUrl').message).toMatch(/Table function url/);
    expect(refusal('scalarFile').message).toMatch(/Function file/);
    expect(refusal('dict').message).toMatch(/Function dictGetOrDefault/);
  });

  it('refuses INTO OUTFILE on any statement', () => {
    expect(refusal('outfile').message).toMatch(/INTO OUTFILE/);
    expect(refusal('showOutfile').message).toMatch(/INTO OUTFILE/);
  });

  it('a name with a line break cannot add a second statement or hide a node', () => {
    // The alias's second line reads as a node one level down: it only adds a table to check.
    expect(() => check('lineBreakAlias')).not.toThrow();
    const secondRoot = `${DUMPS.select}SelectWithUnionQuery`;
    expect(() => checkStatement(parseAstDump(secondRoot), policy)).toThrow(/line breaks/);
    const skipping = 'SelectWithUnionQuery (children 1)\n   TableIdentifier other.secret';
    expect(() => checkStatement(parseAstDump(skipping), policy)).toThrow(/line breaks/);
  });
});
