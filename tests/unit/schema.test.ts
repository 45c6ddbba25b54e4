import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  Nullable,
  StringEnum,
  conforms,
  messages,
  schemaProblems,
} from '../../src/domain/schema.js';

const Item = Type.Object(
  {
    name: Type.String({
      maxLength: 3,
      pattern: '^[a-z]*$',
      ...messages({ maxLength: 'must be at most 3 letters', '*': 'must be letters a-z' }),
    }),
    size: Type.Optional(
      Type.Integer({ minimum: 1, ...messages('must be a whole number 1 or more') }),
    ),
    tags: Type.Optional(
      Type.Array(Type.Unsafe<string>({ type: 'string', enum: ['a', 'b'] }), {
        ...messages('must list a or b'),
      }),
    ),
    kind: Type.Optional(Nullable(StringEnum(['x', 'y']))),
    map: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false, ...messages('must be a JSON object') },
);

describe('schema problems', () => {
  it('names each field once, with the text its schema gives for the rule that failed', () => {
    expect(schemaProblems(Item, { name: 'abcd', size: 0, extra: 1 })).toEqual([
      { field: 'extra', message: 'is not a known field' },
      { field: 'name', message: 'must be at most 3 letters' },
      { field: 'size', message: 'must be a whole number 1 or more' },
    ]);
    expect(schemaProblems(Item, { name: 'AB' })).toEqual([
      { field: 'name', message: 'must be letters a-z' },
    ]);
  });

  it('names a missing field by the text of its own rule, and a non-object as the body', () => {
    expect(schemaProblems(Item, {})).toEqual([{ field: 'name', message: 'must be letters a-z' }]);
    expect(schemaProblems(Item, [1])).toEqual([
      { field: '(body)', message: 'must be a JSON object' },
    ]);
  });

  it('writes paths as 400s name them: a batch index in brackets, map keys after a dot', () => {
    expect(schemaProblems(Item, { name: 'a', map: { 'a/b': 1 } }, '[3]')).toEqual([
      { field: '[3].map.a/b', message: 'must be string' },
    ]);
  });

  it('names a bad item of a list with a message by the list', () => {
    expect(schemaProblems(Item, { name: 'a', tags: ['a', 'c'] })).toEqual([
      { field: 'tags', message: 'must list a or b' },
    ]);
  });

  it('lets null through a nullable enum, and narrows what conforms', () => {
    const value: unknown = { name: 'ab', kind: null };
    expect(schemaProblems(Item, value)).toEqual([]);
    expect(conforms(Item, value) && value.kind).toBeNull();
    expect(schemaProblems(Item, { name: 'ab', kind: 'z' })).toEqual([
      { field: 'kind', message: 'must be one of x, y' },
    ]);
  });

  it('converts the text of a query to its integer when asked to', () => {
    const Query = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 9 }) });
    const query: Record<string, unknown> = { limit: '5' };
    expect(schemaProblems(Query, query, '', { coerce: true })).toEqual([]);
    expect(query.limit).toBe(5);
    expect(schemaProblems(Query, { limit: '5' })).toHaveLength(1);
  });
});
