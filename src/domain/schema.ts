import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import type { SchemaOptions, Static, TSchema, TUnsafe } from '@sinclair/typebox';

/**
 * Payloads are declared once, as TypeBox schemas (plain JSON Schema 2020-12 objects): ajv checks
 * requests with them and the OpenAPI document embeds them as they are (src/api/openapi.ts).
 *
 * A schema may carry `x-message`: the text a 400 shows for its field, instead of ajv's own. A
 * string applies to every rule of the field; an object maps a rule (`maxLength`, `pattern`, ...)
 * to its text, `*` for the others. OpenAPI allows `x-` keywords in a schema, so it stays there.
 */

/** The `x-message` keyword (see above). */
export const MESSAGE = 'x-message';
/** On an object schema: the text for a property it does not declare. */
export const UNKNOWN_MESSAGE = 'x-unknown-message';

/** One problem with one field of the input: `field` is a JSON pointer-like path ("score", "[3].score"). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

type Messages = string | Readonly<Record<string, string>>;

/** `x-message` as a schema option (see the module comment). */
export function messages(text: Messages): SchemaOptions {
  return { [MESSAGE]: text };
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

/** One instance for the process: compiled validators are cached per schema object. */
export function newAjv(options: { coerceTypes?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: true,
    // TypeBox's `Type.Unsafe` (nullable fields) writes `type: [..., 'null']`.
    allowUnionTypes: true,
    ...(options.coerceTypes && { coerceTypes: true }),
  });
  addFormats(ajv);
  ajv.addVocabulary([MESSAGE, UNKNOWN_MESSAGE, 'x-name-pattern']);
  return ajv;
}

const strict = { ajv: newAjv(), compiled: new WeakMap<object, ValidateFunction>() };
// Query strings carry text only: there "5" is the integer 5 (ajv converts it in place).
const coercing = {
  ajv: newAjv({ coerceTypes: true }),
  compiled: new WeakMap<object, ValidateFunction>(),
};

function validator(schema: TSchema, coerce = false): ValidateFunction {
  const { ajv, compiled } = coerce ? coercing : strict;
  let found = compiled.get(schema);
  if (!found) {
    found = ajv.compile(schema);
    compiled.set(schema, found);
  }
  return found;
}

/** `schema` with `null` allowed besides its own type, as one `type` list (not an anyOf). */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const { type, enum: values } = schema as { type?: unknown; enum?: unknown };
  return Type.Unsafe<Static<T> | null>({
    ...schema,
    type: [type, 'null'],
    // An enum lists every value the schema takes: null too.
    ...(Array.isArray(values) && { enum: [...(values as unknown[]), null] }),
  });
}

/**
 * JSON pointer segments ("/3/segment/a~1b") as the field names 400s use ("[3].segment.a/b"): an
 * array index in brackets, an object key after a dot. `root` tells which of the two a step is.
 */
function fieldName(root: unknown, prefix: string, pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/');
  if (extra !== undefined) segments.push(extra);
  let name = prefix;
  let at: unknown = root;
  for (const raw of segments) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(at)) {
      name = `${name}[${segment}]`;
      at = at[Number(segment)];
    } else {
      name = name === '' ? segment : `${name}.${segment}`;
      at =
        typeof at === 'object' && at !== null
          ? (at as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return name;
}

function messageOf(schema: unknown, keyword: string): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const given = (schema as Record<string, unknown>)[MESSAGE] as Messages | undefined;
  if (typeof given === 'string') return given;
  return given?.[keyword] ?? given?.['*'];
}

/** The subschema of `schema` at a JSON pointer of ajv's schemaPath ("#/properties/events"). */
function subschema(schema: unknown, path: string): unknown {
  let at = schema;
  for (const raw of path.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

/**
 * An item of an array whose schema has an `x-message` and whose item schema has none is named by
 * the array ("events must list one or more of ..."), as one rule of the whole list.
 */
function arrayProblem(error: ErrorObject, schema: unknown, root: unknown, prefix: string) {
  const match = /^(.*)\/items\/[^/]+$/.exec(error.schemaPath);
  if (!match?.[1] || messageOf(error.parentSchema, error.keyword) !== undefined) return null;
  const message = messageOf(subschema(schema, match[1]), 'items');
  if (message === undefined) return null;
  const pointer = error.instancePath.replace(/\/[^/]*$/, '');
  return { field: fieldName(root, prefix, pointer) || '(body)', message };
}

function problemOf(
  error: ErrorObject,
  schema: unknown,
  root: unknown,
  prefix: string,
): FieldProblem | null {
  const parent: unknown = error.parentSchema;
  const params = error.params as Record<string, unknown>;
  const ofArray = arrayProblem(error, schema, root, prefix);
  if (ofArray) return ofArray;
  if (error.keyword === 'required') {
    const missing = String(params.missingProperty);
    const properties = (parent as { properties?: Record<string, unknown> }).properties;
    return {
      field: fieldName(root, prefix, error.instancePath, missing),
      message: messageOf(properties?.[missing], 'required') ?? 'is required',
    };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    const unknown = (parent as Record<string, unknown>)[UNKNOWN_MESSAGE];
    return {
      field: fieldName(root, prefix, error.instancePath, params.additionalProperty),
      message: typeof unknown === 'string' ? unknown : 'is not a known field',
    };
  }
  // The propertyNames error repeats the one its key's own rule gave (which has propertyName).
  if (error.keyword === 'propertyNames') return null;
  const field =
    error.propertyName !== undefined
      ? fieldName(root, prefix, error.instancePath, error.propertyName)
      : fieldName(root, prefix, error.instancePath) || '(body)';
  return {
    field,
    message: messageOf(parent, error.keyword) ?? error.message ?? 'is not valid',
  };
}

/**
 * What is wrong with `value` by `schema`, one problem per field (its first), in the order ajv
 * found them; `prefix` names where the value sits (`[3]` for a batch item). Empty when valid.
 * With `coerce` (query strings), text that is a number or boolean is converted in place first.
 */
export function schemaProblems(
  schema: TSchema,
  value: unknown,
  prefix = '',
  options: { coerce?: boolean } = {},
): FieldProblem[] {
  const validate = validator(schema, options.coerce);
  if (validate(value)) return [];
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = problemOf(error, schema, value, prefix);
    if (problem && !seen.has(problem.field)) {
      seen.add(problem.field);
      problems.push(problem);
    }
  }
  return problems;
}

/** True when `value` is valid by `schema`, narrowing it to the schema's type. */
export function conforms<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return validator(schema)(value);
}

/**
 * One of `values`, as `{type: 'string', enum}`: TypeBox's union of literals would be an anyOf,
 * whose errors name each branch instead of the field.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    ...messages(`must be one of ${values.join(', ')}`),
    ...options,
  });
}
