import fc from 'fast-check';

// Strings that have hurt systems before: SQL, shell, format strings, control characters, RTL marks.
export const NASTY = [
  `'; DROP TABLE responses; --`,
  `" OR 1=1 --`,
  '$(rm -rf /)',
  '`reboot`',
  '%s%s%s%n',
  '{survey:String}',
  '\u0000\u0001\u001b[31m',
  '\u202e\u200b',
  '../../etc/passwd',
  '<script>alert(1)</script>',
];

export const nastyString = fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 80 }));

/** A field value that makes an item invalid, by field. */
export const badValue: Record<string, fc.Arbitrary<unknown>> = {
  surveyId: fc.oneof(
    fc.constantFrom(...NASTY, '', 'a'.repeat(65), 'has space'),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 2 }),
  ),
  score: fc.oneof(
    fc.integer({ min: 11 }),
    fc.integer({ max: -1 }),
    fc.double({ noInteger: true }),
    fc.constantFrom('7', '10', 'ten', '', null, true, [9], { value: 9 }, Number.NaN),
  ),
  respondedAt: fc.oneof(
    fc.constantFrom(
      '2999-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '2026-11-22T10:00:00',
      'yesterday',
      '',
    ),
    fc.integer(),
    // fc.date also yields invalid dates; a client sends one as JavaScript prints it.
    fc
      .date({ min: new Date('2100-01-01'), max: new Date('9999-01-01') })
      .map((d) => (Number.isNaN(d.getTime()) ? String(d) : d.toISOString())),
  ),
  channel: fc.oneof(fc.constantFrom('fax', 'SMS', '', ...NASTY), fc.integer()),
  segment: fc.oneof(
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string(), {
      minKeys: 11,
      maxKeys: 20,
    }),
    fc.constant({ nested: { deep: 'x' } }),
    fc.constant({ n: 7 }),
    fc.constant(['a', 'b']),
    fc.constant('plan=pro'),
  ),
  comment: fc.oneof(
    fc.constant('x'.repeat(5001)),
    fc.constantFrom('bell\u0007', 'nul\u0000', 'esc\u001b[2J', '\ud800 lone surrogate'),
    fc.integer(),
  ),
  locale: fc.constantFrom('english please', '12', ...NASTY),
  responseId: fc.oneof(fc.constantFrom('', 'has space', 'tab\t', 'x'.repeat(201)), fc.integer()),
  unknownField: fc.anything(),
};

/** A valid item with one to three fields made invalid, and the names of those fields. */
export const invalidItemWithFields = fc
  .record({
    base: fc.record({
      surveyId: fc.constantFrom('hostile'),
      score: fc.integer({ min: 0, max: 10 }),
      comment: nastyString,
      segment: fc.dictionary(fc.constantFrom('region', 'plan'), nastyString, { maxKeys: 2 }),
    }),
    broken: fc.uniqueArray(fc.constantFrom(...Object.keys(badValue)), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .chain(({ base, broken }) =>
    fc
      .tuple(
        ...broken.map((field) =>
          (badValue[field] ?? fc.constant(undefined)).map((v) => [field, v] as const),
        ),
      )
      .map((pairs) => {
        const item: Record<string, unknown> = { ...base, ...Object.fromEntries(pairs) };
        return { item, broken };
      }),
  )
  // Fields made invalid by value alone must stay so; `undefined` would just drop the field.
  .filter(({ item }) => Object.values(item).every((v) => v !== undefined));

/** A valid item with one to three fields made invalid. */
export const invalidItem = invalidItemWithFields.map(({ item }) => item);
