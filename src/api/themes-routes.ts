import { Router } from 'express';
import type { Request, RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import type { Category } from '../domain/classification.js';
import { summarize } from '../domain/nps.js';
import type { FieldProblem } from '../domain/response.js';
import { themeImpact } from '../domain/theme-impact.js';
import type { ThemeStore } from '../storage/themes.js';
import { isLanguage } from '../themes/language.js';
import type { Language } from '../themes/language.js';
import type { Taxonomy } from '../themes/taxonomy.js';
import { themeLabel } from '../themes/taxonomy.js';
import { distinctiveTerms } from '../themes/terms.js';
import { allowSurvey } from '../http/auth.js';
import { invalid } from '../http/problem.js';
import { checkQuery, rangeOf } from '../http/query.js';
import { TermsQuery, ThemesQuery } from '../http/schemas/read.js';

const EXAMPLES_PER_THEME = 3;
const CATEGORIES: readonly Category[] = ['detractor', 'passive', 'promoter'];
/** Comments read per side for `/terms`: the most recent ones; the answer says when it sampled. */
export const MAX_TERM_COMMENTS = 20_000;

export interface ThemesRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: ThemeStore;
  readonly taxonomy: Taxonomy;
  readonly minResponses: number;
  readonly now: () => number;
}

/** Labels follow Accept-Language among da, sv and en; English when none of them is asked for. */
function labelLanguage(req: Request): Language {
  const lang = req.acceptsLanguages('en', 'da', 'sv');
  return typeof lang === 'string' && isLanguage(lang) ? lang : 'en';
}

/** `GET /v1/nps/themes` (what each theme costs) and `GET /v1/nps/terms` (what is new). */
export function themesRouter(deps: ThemesRoutesDeps): Router {
  const router = Router();
  const known = new Set(deps.taxonomy.themes.map((t) => t.id));

  router.get('/v1/nps/themes', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const given = checkQuery(req, ThemesQuery, problems);
    const range = rangeOf(given.from, given.to, deps.now(), problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = given;
    const channel = given.channel ?? null;
    allowSurvey(res, surveyId);
    const q = { surveyId, channel, ...range };
    const lang = labelLanguage(req);
    const { all, commented, themes } = await deps.store.tallies(q);
    const overall = summarize(all, deps.minResponses);
    const examples = await deps.store.examples(q, [...themes.keys()], EXAMPLES_PER_THEME);
    const rows = [...themes].map(([theme, tally]) => {
      const { responses: mentions, ...counts } = summarize(tally, deps.minResponses);
      return {
        theme,
        // A theme of an earlier taxonomy (before a retag) keeps its id as its label.
        label: known.has(theme) ? themeLabel(deps.taxonomy, theme, lang) : theme,
        mentions,
        promoters: counts.promoters,
        passives: counts.passives,
        detractors: counts.detractors,
        // Few mentions: npsWith rests on too few answers to read by.
        lowSample: counts.lowSample,
        ...themeImpact(all, tally),
        examples: examples.get(theme) ?? [],
      };
    });
    rows.sort(
      (a, b) =>
        (a.impact ?? Infinity) - (b.impact ?? Infinity) ||
        b.mentions - a.mentions ||
        a.theme.localeCompare(b.theme),
    );
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      taxonomyVersion: deps.taxonomy.version,
      responses: overall.responses,
      commented,
      nps: overall.nps,
      marginOfError: overall.marginOfError,
      lowSample: overall.lowSample,
      themes: rows.map((r) => ({
        ...r,
        examples: r.examples.map((e) => ({
          ...e,
          respondedAt: new Date(e.respondedAt).toISOString(),
        })),
      })),
    });
  });

  router.get('/v1/nps/terms', deps.requireScope('read'), async (req, res) => {
    const problems: FieldProblem[] = [];
    const given = checkQuery(req, TermsQuery, problems);
    const range = rangeOf(given.from, given.to, deps.now(), problems);
    if (problems.length > 0 || range === null) throw invalid(problems);
    const { surveyId } = given;
    const channel = given.channel ?? null;
    const category = given.category ?? 'detractor';
    const compareTo = given.compareTo ?? 'others';
    const limit = given.limit ?? 20;
    allowSurvey(res, surveyId);
    const target: Category = category;
    const q = { surveyId, channel, ...range };
    // Against the other categories of the same period, or the same category the period before.
    const reference =
      compareTo === 'previous'
        ? { q: { ...q, from: 2 * range.from - range.to, to: range.from }, categories: [target] }
        : { q, categories: CATEGORIES.filter((c) => c !== target) };
    const [mine, theirs] = await Promise.all([
      deps.store.comments(q, [target], MAX_TERM_COMMENTS),
      deps.store.comments(reference.q, reference.categories, MAX_TERM_COMMENTS),
    ]);
    const docs = (c: typeof mine) =>
      c.comments.map((x) => ({
        text: x.text,
        language: isLanguage(x.language) ? x.language : null,
      }));
    res.json({
      surveyId,
      ...(channel !== null && { channel }),
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      category: target,
      compareTo,
      target: { comments: mine.total, analysed: mine.comments.length },
      reference: {
        from: new Date(reference.q.from).toISOString(),
        to: new Date(reference.q.to).toISOString(),
        categories: reference.categories,
        comments: theirs.total,
        analysed: theirs.comments.length,
      },
      terms: distinctiveTerms(docs(mine), docs(theirs), { limit }),
    });
  });

  return router;
}
