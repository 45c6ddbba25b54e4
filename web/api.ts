/**
 * The read API as the page uses it: same-origin GETs that the session cookie authorizes (the key
 * itself never reaches this page's memory after sign-in). Shapes follow /openapi.json.
 */

export interface Summary {
  readonly responses: number;
  readonly promoters: number;
  readonly passives: number;
  readonly detractors: number;
  readonly nps: number | null;
  readonly marginOfError: number | null;
  /** Fewer responses than NPS_MIN_RESPONSES; older servers leave it out. */
  readonly lowSample?: boolean;
}

export interface Live extends Summary {
  readonly surveyId: string;
  readonly channel: string | null;
  readonly window: string;
  /** The segment slice read: the value asked for, or `other` past the values tracked live. */
  readonly segment?: Readonly<Record<string, string>>;
}

export interface HistoryBucket extends Summary {
  readonly start: string;
}

/** What changed when, as /v1/nps/history lists it beside the buckets. */
export interface Annotation {
  readonly annotationId: string;
  readonly at: string;
  readonly label: string;
}

export interface Theme {
  readonly theme: string;
  readonly label: string;
  readonly mentions: number;
  readonly npsWith: number | null;
  readonly npsWithout: number | null;
  readonly impact: number | null;
  readonly impactMarginOfError: number | null;
  readonly examples: readonly {
    responseId: string;
    score: number;
    comment: string;
    language: string | null;
  }[];
}

export interface Term {
  readonly term: string;
  readonly target: number;
  readonly reference: number;
}

export interface FeedItem {
  readonly responseId: string;
  readonly channel: string;
  readonly score: number;
  readonly comment: string | null;
  readonly language: string | null;
  readonly themes: readonly string[] | null;
  readonly respondedAt: string;
}

export interface Comparison {
  readonly a: Summary & { from: string; to: string };
  readonly b: Summary & { from: string; to: string };
  readonly difference: number | null;
  readonly differenceMarginOfError: number | null;
  readonly significant: boolean;
}

export interface Session {
  readonly signedIn: boolean;
  readonly surveys?: readonly string[] | null;
  /** NPS_SEGMENT_KEYS: what the page may slice by. */
  readonly segmentKeys?: readonly string[];
}

/** The server said 401: the session ended (signed out elsewhere, expired, key removed). */
export class SignedOut extends Error {
  override readonly name = 'SignedOut';
}

/** Another failure, with the problem's detail when the server sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // Not problem+json: the status line says enough.
  }
  return new ApiError(res.status, detail);
}

export async function getJson<T>(
  path: string,
  params: Readonly<Record<string, string | null | undefined>>,
  language: string,
): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(name, value);
  }
  const res = await fetch(`${path}?${query.toString()}`, {
    headers: { accept: 'application/json', 'accept-language': language },
    credentials: 'same-origin',
  });
  if (res.status === 401) throw new SignedOut();
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function session(): Promise<Session> {
  const res = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as Session;
}

export async function signIn(apiKey: string): Promise<Session> {
  const res = await fetch('/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiKey }),
    credentials: 'same-origin',
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as Session;
}

export async function signOut(): Promise<void> {
  const res = await fetch('/session', { method: 'DELETE', credentials: 'same-origin' });
  if (!res.ok && res.status !== 401) throw await failure(res);
}
