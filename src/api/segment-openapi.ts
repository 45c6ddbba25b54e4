import { MAX_SEGMENT_ENTRIES, MAX_SEGMENT_KEY, MAX_SEGMENT_VALUE } from '../domain/response.js';
import { DEFAULT_SEGMENT_MAX_VALUES, OTHER_SEGMENT } from '../domain/segment.js';

/**
 * The `segment.<key>=<value>` query parameters in OpenAPI 3.1 form. OpenAPI has no parameter
 * whose name is a pattern (and `style: deepObject` means `segment[key]=`, not `segment.key=`), so
 * each is one parameter named `segment.<key>` whose description says what `<key>` stands for,
 * with `x-name-pattern` for tools that read it.
 */

const valueSchema = { type: 'string', maxLength: MAX_SEGMENT_VALUE };
const namePattern = `^segment\\.[^\\x00-\\x1f]{1,${MAX_SEGMENT_KEY}}$`;

/** On /v1/nps/live and /v1/nps/stream: one slice of the live windows. */
export const liveSegmentParameter = {
  name: 'segment.<key>',
  in: 'query',
  'x-name-pattern': namePattern,
  description:
    'One segment slice, e.g. `segment.store=aarhus`: `<key>` must be one of NPS_SEGMENT_KEYS ' +
    '(else 400 naming the parameter); at most one `segment.` parameter (400 past it). Combines ' +
    `with \`channel\`. Live windows track NPS_SEGMENT_MAX_VALUES (default ${DEFAULT_SEGMENT_MAX_VALUES}) ` +
    `values per survey and key, further values count under \`${OTHER_SEGMENT}\`: asked for such a ` +
    `value, the answer has \`segment: {"<key>": "${OTHER_SEGMENT}"}\` and a \`note\` saying so. A ` +
    'value not tracked while fewer are counts 0 (no responses yet).',
  schema: valueSchema,
  examples: { store: { value: 'aarhus', summary: 'segment.store=aarhus' } },
};

/** On /v1/nps/history and /v1/nps/compare: any number of filters, AND-ed, exact per value. */
export const segmentFilterParameter = {
  name: 'segment.<key>',
  in: 'query',
  'x-name-pattern': namePattern,
  description:
    'Segment filters, e.g. `segment.store=aarhus&segment.region=dk`: only responses whose ' +
    'segment has every given key with that value (AND). Each `<key>` must be one of ' +
    'NPS_SEGMENT_KEYS (else 400 naming the parameter). Counted from the stored responses, so ' +
    `exact for every value, also those live counts under \`${OTHER_SEGMENT}\`.`,
  schema: valueSchema,
};

/** On the Twilio and Mailgun webhooks: the segment of every response the route records. */
export const segmentStampParameter = {
  name: 'segment.<key>',
  in: 'query',
  'x-name-pattern': namePattern,
  description:
    'Stamped on every response of this route (one route per store or campaign), any key, ' +
    `at most ${MAX_SEGMENT_ENTRIES}, key 1-${MAX_SEGMENT_KEY} and value at most ` +
    `${MAX_SEGMENT_VALUE} characters, no control characters: as \`segment\` of POST /v1/responses. ` +
    'A route outside these limits is answered 400 problem+json naming the parameter (shown in ' +
    "the provider's console) and records nothing: fix the route URL.",
  schema: valueSchema,
};

/** The fields /v1/nps/live (and each SSE `nps` event) adds for a segment slice. */
export const liveSegmentProperties = {
  segment: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      `The segment read. Live: the value asked for, or \`${OTHER_SEGMENT}\` past the tracked ` +
      'values; history and compare: the filters as given.',
  },
  note: {
    type: 'string',
    description: `Present when the value asked for is counted under \`${OTHER_SEGMENT}\`.`,
  },
};
