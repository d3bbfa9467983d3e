/**
 * Fits the matcher's two small models (functions/matching/model.ts) on labelled match cases and writes
 * the coefficients to functions/matching/model-weights.ts.
 *
 *   npx tsx bench/match-fit.ts [--catalog FILE] [--dev FILE] [--season FILE] [--folds 5]
 *                              [--operating-point precision:0.998] [--dev-precision 0.995] [--dry-run]
 *
 * Cases: the series-level dev file, the season-level file, and the season cases built from the catalog
 * (bench/season-cases.ts): their `fit` split is fitted on, their `holdout` split never is — it is
 * where calibration and precision are read (`heldOutSplit` in the report).
 *
 * - Choice model: conditional logit over CHOICE_FEATURES (softmax over each request's candidates),
 *   positive = expectedFirstTv when it is among the candidates, else any expected id; L2-regularised,
 *   fitted by gradient descent (Adam, FIT_STEPS steps).
 * - Confidence model: logistic regression over CONFIDENCE_FEATURES of the chosen candidate, label =
 *   chosen id ∈ expectedMalIds; L2-regularised, Newton's method. The final confidence model learns
 *   from out-of-fold choices (each case chosen by a choice model that never saw it), so it is
 *   calibrated for unseen requests, not for the choice model's own training cases.
 * - Auto-accept threshold (precision first): the lowest threshold at which the out-of-fold
 *   season-level cases reach the precision target (0.999: a margin over the 0.998 wanted on unseen data) and the series-level dev cases reach
 *   --dev-precision counting an entry of a labelled sequel/prequel chain as right (a bare series title
 *   cannot name a season) — the stricter of the two. `--operating-point coverage:X` instead takes the
 *   highest threshold that still auto-accepts X of the dev cases.
 * - The episodes feature stays 0 when the case files state no episode count.
 *
 * Cross-validation: k folds grouped by franchise (cases sharing an expected MAL id stay in one fold),
 * over the dev, season and built-fit cases together. Figures are reported pooled over the held-out
 * folds, for the held-out split, and in-sample. Nothing here looks at titles or ids beyond grouping.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CatalogCandidateSource, loadCatalog } from '../functions/matching/catalog-source';
import { matchCaseToRequest, parseMatchCase } from '../functions/matching/match-cases';
import { Matcher } from '../functions/matching/matcher';
import { CHOICE_FEATURES, CONFIDENCE_FEATURES, confidenceFeatures, dot, sigmoid, softmax, type ModelCase, type ModelWeights } from '../functions/matching/model';
import { sequelFranchise } from './franchise';
import { buildSeasonCases } from './season-cases';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    catalog: { type: 'string', default: resolve(repoRoot, '../shared/data/mal-catalog.jsonl.gz') },
    dev: { type: 'string', default: resolve(repoRoot, '../shared/data/matching/dev-cases.jsonl') },
    season: { type: 'string', default: resolve(repoRoot, '../shared/data/matching/season-dev-cases.jsonl') },
    folds: { type: 'string', default: '5' },
    'operating-point': { type: 'string', default: 'precision:0.999' },
    'dev-precision': { type: 'string', default: '0.995' },
    'dry-run': { type: 'boolean', default: false },
  },
});

const [OPERATING_KIND, OPERATING_VALUE] = (() => {
  const [kind, value] = args['operating-point'].split(':');
  if ((kind !== 'coverage' && kind !== 'precision') || !(Number(value) > 0 && Number(value) <= 1)) {
    throw new Error(`--operating-point: expected coverage:X or precision:X, got ${args['operating-point']}`);
  }
  return [kind, Number(value)] as const;
})();
const MIN_TITLE = 0.55;
const DEV_PRECISION = Number(args['dev-precision']);
const CHAIN_TITLE = CHOICE_FEATURES.indexOf('chainTitle');
const CHOICE_L2 = 1e-4;
const CONFIDENCE_L2 = 0.5;
const CHOICE_STEPS = Number(process.env.FIT_STEPS ?? 1500);

interface Example {
  /** dev/season: the shared case files; built: the catalog-built season cases (fit split); holdout: their held-out split, never fitted on. */
  set: 'dev' | 'season' | 'built' | 'holdout';
  group: number;
  expected: Set<number>;
  /** The expected ids and every entry on their sequel/prequel chains (what a series-level label vouches for). */
  franchise: Set<number>;
  firstTv: number | null;
  modelCase: ModelCase | null;
  /** Index set of positive candidates for the choice fit (empty: not used there). */
  positives: number[];
}

const catalogEntries = await loadCatalog(args.catalog);
const source = new CatalogCandidateSource(catalogEntries);
// The full path for every case (no search-only decisions): the models are fitted on its candidates.
const matcher = new Matcher(source, { decideFromSearch: false });
const built = buildSeasonCases(catalogEntries);

async function load(path: string, set: Example['set']): Promise<Example[]> {
  return loadLines(readFileSync(path, 'utf8').split('\n'), set);
}

async function loadLines(lines: string[], set: Example['set']): Promise<Example[]> {
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim().length === 0) continue;
    const matchCase = parseMatchCase(lines[i], i + 1);
    const labels = JSON.parse(lines[i]) as { expectedMalIds: number[]; expectedFirstTv: number | null };
    const { modelCase } = await matcher.analyse(matchCaseToRequest(matchCase));
    const expected = new Set(labels.expectedMalIds);
    let positives: number[] = [];
    if (modelCase) {
      const ids = modelCase.candidates.map((c) => c.malId);
      const first = labels.expectedFirstTv == null ? -1 : ids.indexOf(labels.expectedFirstTv);
      positives = first >= 0 ? [first] : ids.flatMap((id, k) => (expected.has(id) ? [k] : []));
    }
    out.push({ set, group: Math.min(...labels.expectedMalIds), expected, franchise: sequelFranchise(source, labels.expectedMalIds, 400), firstTv: labels.expectedFirstTv ?? null, modelCase, positives });
  }
  return out;
}

const allExamples = [
  ...(await load(args.dev, 'dev')),
  ...(await load(args.season, 'season')),
  ...(await loadLines(built.filter((c) => c.split === 'fit').map((c) => JSON.stringify(c)), 'built')),
  ...(await loadLines(built.filter((c) => c.split === 'holdout').map((c) => JSON.stringify(c)), 'holdout')),
];
const examples = allExamples.filter((e) => e.set !== 'holdout');
const holdout = allExamples.filter((e) => e.set === 'holdout');
process.stderr.write(`fit: ${examples.length} cases (${examples.filter((e) => e.set === 'dev').length} dev, ${examples.filter((e) => e.set === 'built').length} built); ${holdout.length} held out\n`);

// Groups: cases sharing any expected id are one group (union-find over ids).
const parent = new Map<number, number>();
const find = (x: number): number => {
  while (parent.get(x) !== undefined && parent.get(x) !== x) x = parent.get(x)!;
  return x;
};
for (const e of allExamples) {
  const ids = [...e.expected];
  for (const id of ids) if (!parent.has(id)) parent.set(id, id);
  for (const id of ids.slice(1)) parent.set(find(id), find(ids[0]));
}
for (const e of allExamples) e.group = find([...e.expected][0]);

// --- choice model ---------------------------------------------------------------------------------
function fitChoice(train: Example[]): number[] {
  const usable = train.filter((e) => e.modelCase && e.positives.length > 0 && e.positives.length < e.modelCase.candidates.length);
  const d = CHOICE_FEATURES.length;
  const w = new Array(d).fill(0);
  w[0] = 10;
  const m = new Array(d).fill(0);
  const v = new Array(d).fill(0);
  const lr = 0.2;
  for (let step = 1; step <= CHOICE_STEPS; step++) {
    const grad = w.map((wi) => 2 * CHOICE_L2 * wi * usable.length);
    for (const e of usable) {
      const cands = e.modelCase!.candidates;
      const p = softmax(cands.map((c) => dot(w, c.x)));
      const pos = e.positives.reduce((s, k) => s + p[k], 0);
      for (let k = 0; k < cands.length; k++) {
        const q = e.positives.includes(k) ? p[k] / pos : 0;
        const coef = p[k] - q;
        if (coef === 0) continue;
        for (let j = 0; j < d; j++) grad[j] += coef * cands[k].x[j];
      }
    }
    for (let j = 0; j < d; j++) {
      const g = grad[j] / usable.length;
      m[j] = 0.9 * m[j] + 0.1 * g;
      v[j] = 0.999 * v[j] + 0.001 * g * g;
      w[j] -= (lr * (m[j] / (1 - 0.9 ** step))) / (Math.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8);
    }
  }
  if (process.env.FIT_DEBUG) {
    let ll = 0;
    for (const e of usable) {
      const p = softmax(e.modelCase!.candidates.map((c) => dot(w, c.x)));
      ll += Math.log(e.positives.reduce((s, k) => s + p[k], 0));
    }
    process.stderr.write(`choice: mean log-likelihood ${(ll / usable.length).toFixed(4)} over ${usable.length} cases\n`);
  }
  return w;
}

interface Chosen {
  example: Example;
  malId: number | null;
  x: number[] | null;
  correct: boolean;
}

function choose(e: Example, choice: readonly number[]): Chosen {
  const mc = e.modelCase;
  if (!mc || mc.candidates.length === 0) return { example: e, malId: null, x: null, correct: false };
  const u = mc.candidates.map((c) => dot(choice, c.x));
  let best = 0;
  for (let i = 1; i < u.length; i++) if (u[i] > u[best] || (u[i] === u[best] && mc.candidates[i].malId < mc.candidates[best].malId)) best = i;
  const chosen = mc.candidates[best];
  // As the matcher: a chain entry may lean on its chain's title (an arc-titled later season).
  if (Math.max(chosen.title, chosen.x[CHAIN_TITLE]) < MIN_TITLE) return { example: e, malId: null, x: null, correct: false };
  return { example: e, malId: chosen.malId, x: confidenceFeatures(mc, best, softmax(u)), correct: e.expected.has(chosen.malId) };
}

// --- confidence model -------------------------------------------------------------------------------
function fitConfidence(rows: Chosen[]): number[] {
  const data = rows.filter((r) => r.x !== null);
  const d = CONFIDENCE_FEATURES.length;
  const w = new Array(d).fill(0);
  for (let iter = 0; iter < 50; iter++) {
    const g = w.map((wi, j) => (j === 0 ? 0 : CONFIDENCE_L2 * wi));
    const h = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j && i !== 0 ? CONFIDENCE_L2 : i === j ? 1e-6 : 0)));
    for (const r of data) {
      const p = sigmoid(dot(w, r.x!));
      const y = r.correct ? 1 : 0;
      for (let i = 0; i < d; i++) {
        g[i] += (p - y) * r.x![i];
        for (let j = 0; j < d; j++) h[i][j] += p * (1 - p) * r.x![i] * r.x![j];
      }
    }
    const step = solve(h, g);
    let change = 0;
    for (let i = 0; i < d; i++) {
      w[i] -= step[i];
      change = Math.max(change, Math.abs(step[i]));
    }
    if (change < 1e-7) break;
  }
  return w;
}

function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c || m[c][c] === 0) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => (row[i] === 0 ? 0 : row[n] / row[i]));
}

function pickThreshold(scored: Array<{ confidence: number; correct: boolean }>, totalCases: number, precisionTarget = OPERATING_VALUE): number {
  const sorted = [...scored].sort((a, b) => b.confidence - a.confidence);
  let accepted = 0;
  let wrong = 0;
  let threshold = 1;
  for (let i = 0; i < sorted.length; i++) {
    accepted++;
    if (!sorted[i].correct) wrong++;
    const next = sorted[i + 1]?.confidence;
    if (next === sorted[i].confidence) continue;
    if (OPERATING_KIND === 'precision') {
      if ((accepted - wrong) / accepted >= precisionTarget) threshold = sorted[i].confidence;
    } else if (accepted / totalCases >= OPERATING_VALUE) {
      threshold = sorted[i].confidence;
      break;
    }
  }
  return Math.round(threshold * 1000) / 1000;
}

/**
 * Fits both models on `train`. The confidence model (and the threshold) learn from `confidenceRows`
 * when given: choices made by models that never saw those cases (the cross-validation folds), so the
 * confidence is calibrated for unseen requests rather than for the choice model's own training cases.
 */
function fit(train: Example[], confidenceRows?: Chosen[]): ModelWeights {
  const choice = fitChoice(train);
  const rows = confidenceRows ?? train.map((e) => choose(e, choice));
  const confidence = fitConfidence(rows);
  // One threshold must serve series-level (dev) and season-level requests: the stricter of the two.
  // Series-level labels vouch for the franchise only (a bare series title cannot name a season), so
  // on dev an entry of a labelled chain counts as right; season-level cases must hit the entry.
  const thresholdOn = (set: Array<Example['set']>, franchiseLevel: boolean) => {
    const part = rows.filter((r) => set.includes(r.example.set));
    const scored = part
      .filter((r) => r.x)
      .map((r) => ({ confidence: Math.round(sigmoid(dot(confidence, r.x!)) * 1000) / 1000, correct: franchiseLevel ? r.example.franchise.has(r.malId!) : r.correct }));
    return part.length === 0 ? 0 : pickThreshold(scored, part.length, franchiseLevel ? DEV_PRECISION : OPERATING_VALUE);
  };
  const threshold = OPERATING_KIND === 'precision' ? Math.max(thresholdOn(['dev'], true), thresholdOn(['season', 'built'], false)) : thresholdOn(['dev'], false);
  return { choice, confidence, autoAcceptThreshold: threshold };
}

interface Prediction {
  example: Example;
  malId: number | null;
  confidence: number;
  auto: boolean;
}

function predict(e: Example, model: ModelWeights): Prediction {
  const c = choose(e, model.choice);
  if (c.malId === null) return { example: e, malId: null, confidence: 0, auto: false };
  const confidence = Math.round(sigmoid(dot(model.confidence, c.x!)) * 1000) / 1000;
  return { example: e, malId: c.malId, confidence, auto: confidence >= model.autoAcceptThreshold };
}

function figures(preds: Prediction[]) {
  const n = preds.length;
  const correct = (p: Prediction) => p.malId !== null && p.example.expected.has(p.malId);
  const withFirst = preds.filter((p) => p.example.firstTv !== null);
  const auto = preds.filter((p) => p.auto);
  const r = (x: number) => Math.round(x * 10000) / 10000;
  return {
    cases: n,
    top1: r(preds.filter(correct).length / n),
    season1: r(withFirst.filter((p) => p.malId === p.example.firstTv).length / Math.max(1, withFirst.length)),
    autoPrecision: r(auto.filter(correct).length / Math.max(1, auto.length)),
    coverage: r(auto.length / n),
    wrongAuto: auto.filter((p) => !correct(p)).length,
    franchiseTop1: r(preds.filter((p) => p.malId !== null && p.example.franchise.has(p.malId)).length / n),
    franchiseAutoPrecision: r(auto.filter((p) => p.example.franchise.has(p.malId!)).length / Math.max(1, auto.length)),
  };
}

// Deterministic fold assignment by group.
const groups = [...new Set(examples.map((e) => e.group))].sort((a, b) => a - b);
const folds = Number(args.folds);
const foldOf = new Map<number, number>();
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const shuffled = groups.map((g) => [g, rand()] as const).sort((a, b) => a[1] - b[1]);
shuffled.forEach(([g], i) => foldOf.set(g, i % folds));

const heldOut: Prediction[] = [];
const outOfFold: Chosen[] = [];
for (let f = 0; f < folds; f++) {
  const train = examples.filter((e) => foldOf.get(e.group) !== f);
  const test = examples.filter((e) => foldOf.get(e.group) === f);
  const model = fit(train);
  process.stderr.write(`fold ${f + 1}/${folds}: threshold ${model.autoAcceptThreshold}\n`);
  for (const e of test) {
    heldOut.push(predict(e, model));
    outOfFold.push(choose(e, model.choice));
  }
}
const finalModel = fit(examples, outOfFold);
if (process.env.FIT_DUMP) {
  const rows = heldOut.map((p) => {
    const c = choose(p.example, finalModel.choice);
    return { set: p.example.set, group: p.example.group, malId: p.malId, correct: p.malId !== null && p.example.expected.has(p.malId), confidence: p.confidence, x: c.x };
  });
  writeFileSync(process.env.FIT_DUMP, rows.map((r) => JSON.stringify(r)).join('\n'));
}
const inSample = examples.map((e) => predict(e, finalModel));

const heldOutBuilt = holdout.map((e) => predict(e, finalModel));
/** Confidence bins against observed accuracy (the calibration check). */
function reliability(preds: Prediction[]) {
  const edges = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0001];
  const rows: Array<{ bin: string; cases: number; meanConfidence: number; observed: number }> = [];
  for (let b = 0; b + 1 < edges.length; b++) {
    const inBin = preds.filter((p) => p.malId !== null && p.confidence >= edges[b] && p.confidence < edges[b + 1]);
    if (inBin.length === 0) continue;
    const r = (x: number) => Math.round(x * 1000) / 1000;
    rows.push({
      bin: `[${edges[b]}, ${Math.min(1, edges[b + 1])})`,
      cases: inBin.length,
      meanConfidence: r(inBin.reduce((a, p) => a + p.confidence, 0) / inBin.length),
      observed: r(inBin.filter((p) => p.example.expected.has(p.malId!)).length / inBin.length),
    });
  }
  return rows;
}
const report = {
  crossValidated: {
    dev: figures(heldOut.filter((p) => p.example.set === 'dev')),
    season: figures(heldOut.filter((p) => p.example.set === 'season')),
    built: figures(heldOut.filter((p) => p.example.set === 'built')),
  },
  heldOutSplit: figures(heldOutBuilt),
  inSample: {
    dev: figures(inSample.filter((p) => p.example.set === 'dev')),
    season: figures(inSample.filter((p) => p.example.set === 'season')),
    built: figures(inSample.filter((p) => p.example.set === 'built')),
  },
  model: finalModel,
};
process.stderr.write(`reliability, held-out split (final model): ${JSON.stringify(reliability(heldOutBuilt))}\n`);
process.stderr.write(`reliability, cross-validated folds (all sets): ${JSON.stringify(reliability(heldOut))}\n`);
process.stderr.write(`choice weights: ${CHOICE_FEATURES.map((n, i) => `${n}=${finalModel.choice[i].toFixed(3)}`).join(' ')}\n`);
process.stderr.write(`confidence weights: ${CONFIDENCE_FEATURES.map((n, i) => `${n}=${finalModel.confidence[i].toFixed(3)}`).join(' ')}\n`);

if (!args['dry-run']) {
  const fmt = (w: readonly number[]) => `[${w.map((x) => Number(x.toFixed(4))).join(', ')}]`;
  writeFileSync(
    resolve(repoRoot, 'functions/matching/model-weights.ts'),
    `// Written by bench/match-fit.ts (${examples.length} labelled cases, ${folds}-fold grouped cross-validation). Do not edit by hand.
// Feature order: see CHOICE_FEATURES and CONFIDENCE_FEATURES in model.ts.
// Cross-validated figures: ${JSON.stringify(report.crossValidated)}
// Held-out split of the built season cases (never fitted on): ${JSON.stringify(report.heldOutSplit)}
export const CHOICE_WEIGHTS = ${fmt(finalModel.choice)} as const;
export const CONFIDENCE_WEIGHTS = ${fmt(finalModel.confidence)} as const;
/** Operating point ${args['operating-point']} on the training cases (see bench/match-fit.ts). */
export const AUTO_ACCEPT_THRESHOLD = ${finalModel.autoAcceptThreshold};
`,
  );
  process.stderr.write('fit: wrote functions/matching/model-weights.ts\n');
}
process.stdout.write(`${JSON.stringify(report)}\n`);
