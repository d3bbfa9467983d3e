/**
 * Matcher benchmark: accuracy and throughput on labelled match cases against the offline catalog.
 *
 *   npm run bench:match [-- --input FILE | --built fit|holdout|all [--catalog-dates] [--mid-season]] [-- --as-sent] [-- --catalog FILE] [-- --details N] [-- --errors]
 *
 * Reports top1 (chosen id ∈ expectedMalIds), season1 (chosen id == expectedFirstTv, over cases where
 * it is set), autoPrecision (share of auto-accepted results that are top-1 correct), coverage (share of
 * cases auto-accepted), franchiseTop1 (the chosen entry is labelled or on the same sequel/prequel chain
 * as a labelled one, over cases with a usable title), franchiseAutoPrecision (the same among the
 * auto-accepted), calibrationGap (largest |mean confidence − observed accuracy| over reliability bins
 * of ≥ 20 cases), casesPerSecond and casesPerCpuSecond (matching only, catalog loading excluded, after a
 * first pass over the same cases whose figure is coldCasesPerCpuSecond: see timedPass). The
 * last stdout line is one JSON object with those figures. `--built` measures the season cases built
 * from the catalog (bench/season-cases.ts) instead of a file.
 *
 * stderr also sorts the misses by kind, so a figure below target can be read: cases whose title gives
 * no usable MAL query (no matcher can answer those), misses on another entry of the labelled franchise
 * (the chosen entry is linked to a labelled one through sequel/prequel/side-story relations, e.g. the
 * first season where the label lists only a later one) and misses on an unrelated work.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CatalogCandidateSource, loadCatalog } from '../functions/matching/catalog-source';
import { matchRequestForFacts } from '../functions/matching/from-history';
import { matchCaseToRequest, parseMatchCase, type MatchCase } from '../functions/matching/match-cases';
import { clearMatchingMemos, Matcher } from '../functions/matching/matcher';
import { buildQueries } from '../functions/matching/queries';
import type { MatchRequest, MatchResult } from '../functions/matching/types';
import { sequelFranchise } from './franchise';
import { buildSeasonCases } from './season-cases';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    input: { type: 'string', default: resolve(repoRoot, '../shared/data/matching/dev-cases.jsonl') },
    catalog: { type: 'string', default: resolve(repoRoot, '../shared/data/mal-catalog.jsonl.gz') },
    errors: { type: 'boolean', default: false },
    built: { type: 'string' },
    // The sync asks details of fewer hits than the matcher's default; measure that setting too.
    details: { type: 'string' },
    // Built cases with some older shows dated by CR's catalog upload instead of the broadcast (stress).
    'catalog-dates': { type: 'boolean', default: false },
    // Built cases with some seasons watched from part-way on (stress).
    'mid-season': { type: 'boolean', default: false },
    // Each case as the sync sends it: through the history's season facts (from-history.ts).
    'as-sent': { type: 'boolean', default: false },
  },
});

interface LabelledCase {
  expectedMalIds: number[];
  expectedFirstTv: number | null;
  /** Built cases watched from mid-season: the labelled entry's episode of the first number. */
  firstWatched?: number;
}

const loadStarted = performance.now();
const catalogEntries = await loadCatalog(args.catalog);
const source = new CatalogCandidateSource(catalogEntries);
process.stderr.write(`catalog: ${source.size} entries indexed in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`);

if (args.built !== undefined && !['fit', 'holdout', 'all'].includes(args.built)) throw new Error(`--built: expected fit, holdout or all, got ${args.built}`);
const inputName = args.built ? `built season cases (${[`${args.built} split`, args['catalog-dates'] ? 'catalog upload dates' : '', args['mid-season'] ? 'some watched from mid-season' : ''].filter(Boolean).join(', ')})` : args.input;
// The case files give no episodes or air dates (a history always does), and --as-sent drops their year.
if ((args['catalog-dates'] || args['mid-season'] || args['as-sent']) && !args.built) throw new Error('--catalog-dates, --mid-season and --as-sent: only with --built');
const lines = args.built
  ? buildSeasonCases(catalogEntries, { catalogUploads: args['catalog-dates'], midSeason: args['mid-season'] })
      .filter((c) => args.built === 'all' || c.split === args.built)
      .map((c) => JSON.stringify(c))
  : readFileSync(args.input, 'utf8').split('\n');
const cases = lines.flatMap((line, index) => {
  if (line.trim().length === 0) return [];
  const matchCase = parseMatchCase(line, index + 1);
  const labels = JSON.parse(line) as LabelledCase;
  return [{ matchCase, labels }];
});

/**
 * The request the matcher gets: the case as it states it, or with `--as-sent` as the sync would send
 * that season (its episodes' numbers, duration and air dates through `matchRequestForFacts`: first and
 * last numbers and dates only, no year or type unless a film).
 */
function requestFor(matchCase: MatchCase): MatchRequest {
  const request = matchCaseToRequest(matchCase);
  if (!args['as-sent']) return request;
  const numbers = matchCase.episodeNumbers ?? [1];
  return {
    ...matchRequestForFacts({
      seasonKey: matchCase.id,
      seriesTitle: matchCase.seriesTitle,
      seasonTitle: matchCase.seasonTitle ?? matchCase.seriesTitle,
      seasonNumber: matchCase.seasonNumber ?? null,
      isMovie: request.mediaType === 'movie',
      numberingOffset: 0,
      episodes: numbers.map((number, k) => ({ number, durationMs: matchCase.durationMs ?? null, airDate: matchCase.airDates?.[k] ?? matchCase.airDates?.[0] ?? null })),
    }),
    identifier: request.identifier,
  };
}

// Timed twice over the same cases: first in this fresh process (`coldCasesPerCpuSecond`: V8 compiles the
// matcher's code as it goes, ~0.8 CPU-s, most of a 199-case file), then, with the module memos emptied and
// a new source and matcher (no search, title form or candidate carried over), once the code is compiled
// (`casesPerCpuSecond`: what a matcher process costs per season once it has matched a few).
const matcherOptions = args.details ? { detailsLimit: Number(args.details) } : {};
async function timedPass(passSource: CatalogCandidateSource): Promise<{ results: MatchResult[]; seconds: number; cpuSeconds: number }> {
  const matcher = new Matcher(passSource, matcherOptions);
  const passResults: MatchResult[] = [];
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (const { matchCase } of cases) passResults.push(await matcher.match(requestFor(matchCase)));
  const cpu = process.cpuUsage(cpuStarted);
  // Wall-clock throughput suffers when the machine is shared; CPU time shows the cost on one core.
  return { results: passResults, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}
const cold = await timedPass(source);
clearMatchingMemos();
const warm = await timedPass(new CatalogCandidateSource(catalogEntries));
const { results, seconds, cpuSeconds } = warm;
if (results.some((r, i) => r.malId !== cold.results[i].malId || r.confidence !== cold.results[i].confidence)) throw new Error('the two timed passes disagree');
process.stderr.write(
  `matching: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU (${Math.round(cases.length / cpuSeconds)} cases per CPU-second); ` +
    `first pass in a fresh process ${cold.seconds.toFixed(2)} s wall, ${cold.cpuSeconds.toFixed(2)} s CPU (${Math.round(cases.length / cold.cpuSeconds)} cases per CPU-second)\n`,
);

let top1 = 0;
let season1Total = 0;
let season1 = 0;
let autoAccepted = 0;
let autoCorrect = 0;
cases.forEach(({ matchCase, labels }, index) => {
  const result = results[index];
  const correct = result.malId !== null && labels.expectedMalIds.includes(result.malId);
  if (correct) top1++;
  if (labels.expectedFirstTv !== null && labels.expectedFirstTv !== undefined) {
    season1Total++;
    if (result.malId === labels.expectedFirstTv) season1++;
  }
  if (!result.needsReview && result.malId !== null) {
    autoAccepted++;
    if (correct) autoCorrect++;
  }
  const seasonWrong = labels.expectedFirstTv != null && result.malId !== labels.expectedFirstTv;
  if (args.errors && (!correct || seasonWrong)) {
    process.stderr.write(
      `${correct ? 'SEASON' : 'WRONG'} ${result.needsReview ? 'review' : 'AUTO'} ${JSON.stringify(matchCase.seasonTitle ?? matchCase.seriesTitle)} ` +
        `s=${matchCase.seasonNumber ?? '-'} expected ${JSON.stringify(labels.expectedMalIds)} first=${labels.expectedFirstTv} | ${result.explanation.text}\n`,
    );
  }
});

// Seasons decided from the search answer alone (no details): how many, and how often right.
const searchOnly = cases.flatMap(({ labels }, index) => (results[index].explanation.text.includes('decided from the search answer') ? [{ labels, result: results[index] }] : []));
const searchOnlyRight = searchOnly.filter(({ labels, result }) => result.malId !== null && labels.expectedMalIds.includes(result.malId)).length;
process.stderr.write(`decided from the search answer alone: ${searchOnly.length} cases, ${searchOnlyRight} right\n`);

// Reliability table: does the confidence mean what it says? (bins of confidence vs observed accuracy)
const bins = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0001];
let calibrationGap = 0;
// Two decimals, three where the edge needs them (0.995).
const binEdge = (edge: number) => (Math.abs(Math.round(edge * 100) - edge * 100) < 1e-9 ? edge.toFixed(2) : edge.toFixed(3));
process.stderr.write('reliability (confidence bin: cases, mean confidence, observed top-1 accuracy):\n');
for (let b = 0; b + 1 < bins.length; b++) {
  const inBin = cases.flatMap(({ labels }, index) => {
    const r = results[index];
    if (r.malId === null || r.confidence < bins[b] || r.confidence >= bins[b + 1]) return [];
    return [{ confidence: r.confidence, correct: labels.expectedMalIds.includes(r.malId) }];
  });
  if (inBin.length === 0) continue;
  const mean = inBin.reduce((s, x) => s + x.confidence, 0) / inBin.length;
  const observed = inBin.filter((x) => x.correct).length / inBin.length;
  // Calibration is judged on bins large enough to say something (≥ 20 cases).
  if (inBin.length >= 20) calibrationGap = Math.max(calibrationGap, Math.abs(mean - observed));
  process.stderr.write(`  [${binEdge(bins[b])}, ${binEdge(Math.min(1, bins[b + 1]))}${b + 2 === bins.length ? ']' : ')'}: ${String(inBin.length).padStart(4)}  ${mean.toFixed(3)}  ${observed.toFixed(3)}\n`);
}
const noCandidate = results.filter((r) => r.malId === null).length;
process.stderr.write(`  no candidate (malId null, needs review): ${noCandidate}\n`);
// Precision/coverage trade-off at other thresholds (the matcher's own threshold decides needsReview).
const ranked = cases
  .map(({ labels }, index) => ({ r: results[index], correct: results[index].malId !== null && labels.expectedMalIds.includes(results[index].malId!) }))
  .filter((x) => x.r.malId !== null)
  .sort((a, b) => b.r.confidence - a.r.confidence);
const tradeOff: string[] = [];
for (const wantedCoverage of [0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97]) {
  const take = Math.min(ranked.length, Math.round(wantedCoverage * cases.length));
  if (take === 0) continue;
  const right = ranked.slice(0, take).filter((x) => x.correct).length;
  tradeOff.push(`coverage ${wantedCoverage.toFixed(2)} → precision ${(right / take).toFixed(4)} (threshold ${ranked[take - 1].r.confidence.toFixed(3)})`);
}
process.stderr.write(`precision at coverage: ${tradeOff.join('; ')}\n`);

// Misses by kind (see the header). Relations are followed through the catalog, a bounded walk.
function franchiseOf(id: number): Set<number> {
  const seen = new Set<number>([id]);
  const queue = [id];
  while (queue.length > 0 && seen.size < 200) {
    const [details] = source.detailsSync([queue.shift()!]);
    for (const related of details?.related_anime ?? []) {
      if (!seen.has(related.node.id)) {
        seen.add(related.node.id);
        queue.push(related.node.id);
      }
    }
  }
  return seen;
}
const misses = { noUsableQuery: 0, noCandidate: 0, otherEntryOfFranchise: 0, otherWork: 0 };
const seasonMisses = { noUsableQuery: 0, otherEntryOfFranchise: 0, otherWork: 0 };
cases.forEach(({ matchCase, labels }, index) => {
  const chosen = results[index].malId;
  const correct = chosen !== null && labels.expectedMalIds.includes(chosen);
  const seasonWrong = labels.expectedFirstTv != null && chosen !== labels.expectedFirstTv;
  if (correct && !seasonWrong) return;
  const noQuery = buildQueries(matchCaseToRequest(matchCase)).length === 0;
  const franchise = chosen === null || noQuery ? undefined : franchiseOf(chosen);
  const related = franchise !== undefined && labels.expectedMalIds.some((id) => franchise.has(id));
  if (!correct) {
    if (noQuery) misses.noUsableQuery++;
    else if (chosen === null) misses.noCandidate++;
    else if (related) misses.otherEntryOfFranchise++;
    else misses.otherWork++;
  }
  if (seasonWrong) {
    if (noQuery) seasonMisses.noUsableQuery++;
    else if (related) seasonMisses.otherEntryOfFranchise++;
    else seasonMisses.otherWork++;
  }
});
process.stderr.write(`top-1 misses by kind: ${JSON.stringify(misses)}; without a usable query top-1 cannot exceed ${((cases.length - misses.noUsableQuery) / cases.length).toFixed(4)}\n`);
process.stderr.write(`season-1 misses by kind: ${JSON.stringify(seasonMisses)}\n`);

// Franchise-level figures: the chosen entry is a labelled one or on the same sequel/prequel chain as
// one (what a series-level label can vouch for), over the cases whose title gives a usable query.
let usable = 0;
let franchiseRight = 0;
let franchiseAutoRight = 0;
cases.forEach(({ matchCase, labels }, index) => {
  if (buildQueries(matchCaseToRequest(matchCase)).length === 0) return;
  usable++;
  const chosen = results[index].malId;
  if (chosen === null) return;
  const franchise = sequelFranchise(source, [chosen], 200);
  const right = labels.expectedMalIds.some((id) => franchise.has(id));
  if (right) franchiseRight++;
  else if (args.errors) {
    process.stderr.write(`FRANCHISE-MISS ${results[index].needsReview ? 'review' : 'AUTO'} ${JSON.stringify(matchCase.seriesTitle)} / ${JSON.stringify(matchCase.seasonTitle ?? null)} expected ${JSON.stringify(labels.expectedMalIds)} | ${results[index].explanation.text}\n`);
  }
  if (right && !results[index].needsReview) franchiseAutoRight++;
});

// Two generic rules the remaining franchise misses would need, counted over the same cases: how many
// misses each would mend and how many right answers it would break (labels that disagree with each
// other cannot be met by any rule that does not name titles).
const mainLineType = (type: string | undefined) => type === 'tv' || type === 'ona';
const startOf = (id: number) => source.detailsSync([id])[0]?.start_date ?? '9999';
const franchiseRightFor = (labels: LabelledCase, id: number) => labels.expectedMalIds.some((e) => sequelFranchise(source, [id], 200).has(e));
const counterfactuals = {
  // A film, OVA, special or music video whose title is as close (within 0.03) as the chosen TV/ONA entry's.
  preferNonTvNamesake: (result: MatchResult) => {
    const [best] = result.candidates;
    if (!mainLineType(best.mediaType)) return undefined;
    return result.candidates.find((c) => !mainLineType(c.mediaType) && c.signals.title >= best.signals.title - 0.03)?.malId;
  },
  // The oldest of the candidates whose utility is within 0.1 of the chosen one's (remakes, namesakes).
  preferOldestNearTie: (result: MatchResult) => {
    const best = result.candidates[0].utility!;
    const near = result.candidates.filter((c) => c.utility !== undefined && best - c.utility < 0.1);
    return near.sort((a, b) => (startOf(a.malId) < startOf(b.malId) ? -1 : startOf(a.malId) > startOf(b.malId) ? 1 : 0))[0].malId;
  },
};
for (const [name, rule] of Object.entries(counterfactuals)) {
  let mends = 0;
  let breaks = 0;
  cases.forEach(({ labels }, index) => {
    const result = results[index];
    if (result.malId === null || result.candidates[0]?.malId !== result.malId || result.candidates[0].utility === undefined) return;
    const other = rule(result);
    if (other === undefined || other === result.malId) return;
    const before = franchiseRightFor(labels, result.malId);
    const after = franchiseRightFor(labels, other);
    if (!before && after) mends++;
    if (before && !after) breaks++;
  });
  process.stderr.write(`rule ${name}: would mend ${mends} franchise misses and break ${breaks} right answers\n`);
}

// Built cases watch a season from its first episode (or from `firstWatched`), so CR's k-th watched
// number is the labelled entry's episode k (counted from there): count the cases whose every episode
// the segments map there (what the sync writes).
let mappedCases = 0;
let mappedRight = 0;
if (args.built) {
  cases.forEach(({ matchCase, labels }, index) => {
    const numbers = matchCase.episodeNumbers;
    if (!numbers || numbers.length === 0 || labels.expectedMalIds.length !== 1) return;
    mappedCases++;
    const { segments } = results[index];
    const right = numbers.every((n, k) => {
      const segment = segments.find((s) => n >= s.firstEpisode && (s.lastEpisode === null || n <= s.lastEpisode));
      return segment !== undefined && segment.malId === labels.expectedMalIds[0] && n - segment.episodeOffset === (labels.firstWatched ?? 1) + k;
    });
    if (right) mappedRight++;
    else if (args.errors) process.stderr.write(`EPISODES ${JSON.stringify(matchCase.seasonTitle)} ${numbers[0]}–${numbers[numbers.length - 1]} expected MAL ${labels.expectedMalIds[0]} episodes ${labels.firstWatched ?? 1}… | segments ${JSON.stringify(segments)}\n`);
  });
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const summary = {
  cases: cases.length,
  top1: round(top1 / cases.length),
  season1: round(season1Total ? season1 / season1Total : 0),
  autoPrecision: round(autoAccepted ? autoCorrect / autoAccepted : 0),
  coverage: round(autoAccepted / cases.length),
  searchOnlyCases: searchOnly.length,
  searchOnlyPrecision: round(searchOnly.length ? searchOnlyRight / searchOnly.length : 0),
  franchiseTop1: round(usable ? franchiseRight / usable : 0),
  franchiseAutoPrecision: round(autoAccepted ? franchiseAutoRight / autoAccepted : 0),
  calibrationGap: round(calibrationGap),
  ...(args.built ? { episodesRight: round(mappedCases ? mappedRight / mappedCases : 0) } : {}),
  casesPerSecond: Math.round(cases.length / seconds),
  casesPerCpuSecond: Math.round(cases.length / cpuSeconds),
  coldCasesPerCpuSecond: Math.round(cases.length / cold.cpuSeconds),
};
process.stdout.write(`input: ${inputName}\n`);
process.stdout.write(JSON.stringify(summary) + '\n');
