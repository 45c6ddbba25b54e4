import { isLanguage, tokenize } from './text.js';
import type { Language } from './text.js';

export { LANGUAGES, isLanguage } from './text.js';
export type { Language } from './text.js';

export interface DetectedLanguage {
  /** null when neither the hint nor the text says which of da, sv, en the comment is in. */
  readonly language: Language | null;
  /** 0-1; 1 when the language comes from the hint. */
  readonly confidence: number;
}

/** Below this the text is not taken to be in any language. */
export const MIN_CONFIDENCE = 0.6;
/**
 * A hint is what the channel knows (the survey page's locale, the browser's Accept-Language, the
 * sender's country), not what the respondent typed: Scandinavians run English browsers and reply
 * in their own language. When a comment of at least this many words is this plainly in another
 * language (about three more cue words for it than for any other), the text wins over the hint.
 */
export const OVERRIDE_MIN_WORDS = 4;
export const OVERRIDE_CONFIDENCE = 0.98;

// Common words and the languages they are words of. A word of one language is a point for it; a
// word of two (det, var, men for Danish and Swedish; at, for, over for Danish and English) is a
// point for both, which still tells them from the third. Words of all three (i, super, ok,
// service) are left out. A word list people will tune belongs in a versioned data file
// (STYLE.md); this one lives here until it needs to differ between installations.
const CUES: readonly (readonly [string, string])[] = [
  [
    'da',
    `og ikke jeg af til fra ind ud op frem hjem hjemme tilbage hvad hvor hvordan hvorfor hvornår
    hvem hvilken hvilke hvis når der da vel nok også bare kun meget mange flere mere bedre bedste
    godt gode nye gamle gammel sjov sjovt flot flotte elendig skuffet skuffende forventet
    forventninger fremragende glimrende anbefale anbefaler anbefales nemt nem nemme bestille
    bestilte bestilt finde fandt leder ved vide kunne vil skal lidt noget nogle nogen hver gang
    gange slet ellers stadig altid allerede endnu siden mens selvom derfor fordi desuden hurtig
    hurtigt hurtige langsom langsomt langsomme lang lange tak venlig venlige venligst virkelig
    rigtig rigtigt rigtige denne dette disse vores jeres jer deres hendes intet alt alle andre
    anden andet hele samme sidste sted steder ting tingene varer varen varerne pakken pakker
    ordren ordre butikken hjemmesiden fik gik er et havde hun os igennem uden mellem mod
    gennem heldigvis dage ugen uge uger timer penge pengene tilfreds utilfreds dejlig dejligt
    dejlige kundeservice levering leveringen leveret forsinket oplevelse fejl vare bestilling
    tager bliver blive blevet været være ganske temmelig endelig hjælp personalet svarede
    ingenting overhovedet sket skete skade virker virkede fungerer fungerede synes syntes lige
    problemer svarer betale betalte gerne`,
  ],
  [
    'sv',
    `och inte jag av till från ut upp fram hem hemma tillbaka vad hur varför eftersom därför medan
    även också bara endast mycket många flera mer bra snabb snabbt snabba långsam långsamt tack
    trevlig trevligt trevliga snäll verkligen denna detta dessa era ert deras hennes någon något
    några inget inga allt alla andra annan annat hela samma första sista nästa varje gång gången
    gånger ställe saker grejer varor varorna varan paketet ordern butiken hemsidan sidan fick
    fått gick gått är hade haft mej dej oss hon honom ni att ett vid utan mellan mot genom
    innan där då väl nog kanske tyvärr lyckligtvis faktiskt ju sjukt grym grymt grymma funkar
    funkade fungerar fungerade köpte beställde skickade skickat säger sa hittar hitta hittade
    letar vet veta kunna ska vill måste borde blir bli varit vara riktigt riktig alldeles ganska
    väldigt jätte jättebra dagar vecka veckor veckan timmar månader pengar pengarna nöjd nöjda
    missnöjd kundtjänst leverans leveransen försenad upplevelse fel beställning gärna smidigt
    seg segt kul svarar svarade tar betala betalade`,
  ],
  [
    'en',
    `the and of a an is it was were be been being has had do does did not no yes very so too also
    just really only still again already always never ever every everything nothing something
    anything anyone nobody someone one two three with without from about after before into
    through than then when where why how what which who this that these those there here my your
    our their his she he they them we us me you its will would could should can get got go going
    gone came come took take make made give gave find found know think want need use used try
    tried great good bad nice fine well better best worse worst easy quick quickly slow late long
    little big small new old first last next same different other another more most much many
    some any all both each few lot lots thanks thank please love loved like happy sorry lovely
    brilliant excellent amazing awesome terrible awful horrible poor disappointed disappointing
    recommend experience customer staff people time day days week weeks month months year years
    item items product products price prices delivery website store money way thing things keep
    kept doing done work works worked arrived received ordered waited waiting answer answered
    told said say says asked help helped helpful problems issue issues but or if as because
    though although while until up out off on i'm i've i'll it's don't didn't doesn't isn't
    wasn't can't won't couldn't wouldn't haven't hasn't aren't weren't you're we're they're
    that's there's what's`,
  ],
  [
    'da sv',
    `det var men med på om har kan som jo nu så vi de den en dem mig dig sig min din sin hos helt
    hej ingen ja nej efter dag tid kom kommer blev skulle tror aldrig mest enkel enkelt tog
    gjorde precis mindre tiden dagen`,
  ],
  ['da en', 'at for over to have her let handle'],
  ['sv en', 'in fast order'],
];

type Points = readonly [da: number, sv: number, en: number];

// Spelling that marks a language in words no list holds (each a fraction of a word's point, a
// word getting at most one point per language): æ and ø are Danish, ä and ö Swedish, "hv-" and
// "-erne" Danish, "-arna" and "-heten" Swedish, "th", "w" and "-ly" English.
const SPELLING: readonly (readonly [RegExp, Points])[] = [
  [/[æø]/u, [1, 0, 0]],
  [/[äö]/u, [0, 1, 0]],
  [/å/u, [0.5, 0.5, 0]],
  [/^hv/u, [1, 0, 0]],
  [/^.{2,}(erne|heden)$/u, [1, 0, 0]],
  [/^.{2,}(ene|ige|ede|dt)$/u, [0.5, 0, 0]],
  [/aa/u, [0.5, 0, 0]],
  [/^.{2,}(erna|arna|orna|heten)$/u, [0, 1, 0]],
  [/^.{2,}(iga|ade|tt)$/u, [0, 0.5, 0]],
  [/^.{3,}ar$/u, [0, 0.5, 0]],
  [/ck/u, [0, 0.5, 0.5]],
  [/th/u, [0, 0, 1]],
  [/w|ph|sh|qu/u, [0, 0, 0.5]],
  [/^.{2,}y$/u, [0, 0, 0.5]],
  [/ea|ou|oo|ee/u, [0, 0, 0.5]],
  [/c(?![kh])/u, [0, 0, 0.5]],
];

const CUE_WORDS: ReadonlyMap<string, Points> = buildCues();
// How much a point of evidence moves the odds: one point and nothing else is 0.69, two are 0.91.
const SHARPNESS = 1.5;

function buildCues(): Map<string, Points> {
  const cues = new Map<string, Points>();
  for (const [languages, list] of CUES) {
    const points: Points = [
      languages.includes('da') ? 1 : 0,
      languages.includes('sv') ? 1 : 0,
      languages.includes('en') ? 1 : 0,
    ];
    for (const word of list.split(/\s+/u)) if (word !== '') cues.set(word, points);
  }
  return cues;
}

/** Every cue word with the languages it counts for (for tests of the lists). */
export function languageCues(): readonly (readonly [word: string, languages: string])[] {
  return CUES.flatMap(([languages, list]) =>
    list
      .split(/\s+/u)
      .filter((word) => word !== '')
      .map((word) => [word, languages] as const),
  );
}

function spellingPoints(token: string): Points {
  let da = 0;
  let sv = 0;
  let en = 0;
  for (const [pattern, points] of SPELLING) {
    if (pattern.test(token)) {
      da += points[0];
      sv += points[1];
      en += points[2];
    }
  }
  return [Math.min(da, 1), Math.min(sv, 1), Math.min(en, 1)];
}

const NO_POINTS: Points = [0, 0, 0];
const DIGIT_FIRST = /^\p{N}/u;
// Points of the words seen so far, bounded like the tagger's word cache.
const seen = new Map<string, Points>();
const MAX_SEEN = 50_000;

function pointsOf(token: string): Points {
  const cue = CUE_WORDS.get(token);
  if (cue !== undefined) return cue;
  let points = seen.get(token);
  if (points === undefined) {
    if (seen.size >= MAX_SEEN) seen.clear();
    points = DIGIT_FIRST.test(token) ? NO_POINTS : spellingPoints(token);
    seen.set(token, points);
  }
  return points;
}

/**
 * The language of already tokenized text (see `tokenize`), from cue words and spelling.
 * `confidence` is the softmax share of the best language's points.
 */
export function detectLanguageOfTokens(tokens: readonly string[]): DetectedLanguage {
  let da = 0;
  let sv = 0;
  let en = 0;
  for (const token of tokens) {
    const points = pointsOf(token);
    da += points[0];
    sv += points[1];
    en += points[2];
  }
  const best = Math.max(da, sv, en);
  if (best === 0) return { language: null, confidence: 0 };
  const weight = (points: number) => Math.exp(SHARPNESS * (points - best));
  const confidence = 1 / (weight(da) + weight(sv) + weight(en));
  // A tie is no answer: the confidence is then at most one half.
  const language: Language = da === best ? 'da' : sv === best ? 'sv' : 'en';
  return confidence >= MIN_CONFIDENCE ? { language, confidence } : { language: null, confidence };
}

const COUNTRIES: Readonly<Record<string, Language>> = {
  DK: 'da',
  SE: 'sv',
  AX: 'sv',
  GB: 'en',
  UK: 'en',
  IE: 'en',
  US: 'en',
  AU: 'en',
  NZ: 'en',
};

/** The language a respondent from this ISO 3166 country most likely writes: DK -> da. */
export function languageOfCountry(country: string): Language | null {
  return COUNTRIES[country.trim().toUpperCase()] ?? null;
}

const THREE_LETTER: Readonly<Record<string, Language>> = { dan: 'da', swe: 'sv', eng: 'en' };

function languageOfTag(tag: string): Language | null {
  // "da-DK", "sv_SE.UTF-8", "en-GB", "und-DK" (language unknown, country known), "dan".
  const [primary = '', region = ''] = tag.trim().split(/[.@]/u)[0]?.split(/[-_]/u) ?? [];
  const language = primary.toLowerCase();
  if (isLanguage(language)) return language;
  const long = THREE_LETTER[language];
  if (long !== undefined) return long;
  if ((language === 'und' || language === '') && region !== '') return languageOfCountry(region);
  return null;
}

/**
 * The language a hint names: a BCP 47 or POSIX locale ("da-DK", "sv_SE", "en-GB"), "und-DK" for a
 * country without a language, or an Accept-Language list, of which only the preferred entry
 * counts ("nb-NO,nb;q=0.9,en;q=0.8" is Norwegian, so no hint, not English). Languages other than
 * da, sv and en give null.
 */
export function normalizeLanguageHint(hint: string | null | undefined): Language | null {
  if (hint === null || hint === undefined) return null;
  let preferred: string | null = null;
  let preferredQ = -1;
  for (const entry of hint.split(',')) {
    const [tag = '', ...params] = entry.split(';');
    if (tag.trim() === '' || tag.trim() === '*') continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (Number.isFinite(q) && q > preferredQ) {
      preferred = tag;
      preferredQ = q;
    }
  }
  return preferred === null || preferredQ <= 0 ? null : languageOfTag(preferred);
}

/**
 * The language of a comment: the hint's when it names da, sv or en (unless a comment of several
 * words is plainly in another of the three), otherwise the text's when it is clear enough.
 */
export function detectLanguage(text: string, hint?: string | null): DetectedLanguage {
  return detectLanguageWithHint(tokenize(text), hint);
}

/** `detectLanguage` for text that has been tokenized already. */
export function detectLanguageWithHint(
  tokens: readonly string[],
  hint?: string | null,
): DetectedLanguage {
  return applyHint(detectLanguageOfTokens(tokens), tokens.length, hint);
}

/** What the text says (`detectLanguageOfTokens` of `words` words), weighed against the hint. */
export function applyHint(
  fromText: DetectedLanguage,
  words: number,
  hint?: string | null,
): DetectedLanguage {
  const hinted = normalizeLanguageHint(hint);
  if (hinted === null) return fromText;
  const overruled =
    fromText.language !== null &&
    fromText.language !== hinted &&
    words >= OVERRIDE_MIN_WORDS &&
    fromText.confidence >= OVERRIDE_CONFIDENCE;
  return overruled ? fromText : { language: hinted, confidence: 1 };
}
