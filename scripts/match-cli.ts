/**
 * Match CLI: JSONL match cases in, one JSONL result per case out.
 *
 *   npm run --silent match -- --catalog FILE --input FILE [--skip-invalid] [--explain]
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CatalogCandidateSource, CatalogLoadError } from '../functions/matching/catalog-source';
import { MatchCaseError, matchCaseToRequest, parseMatchCase } from '../functions/matching/match-cases';
import { Matcher } from '../functions/matching/matcher';

const HELP = `Usage: npm run --silent match -- --catalog FILE --input FILE [options]

Matches Crunchyroll seasons to MyAnimeList entries using an offline MAL catalog.

  --catalog FILE    MAL catalog, .jsonl or .jsonl.gz (e.g. ../shared/data/mal-catalog.jsonl.gz)
  --input FILE      JSONL cases, one per line:
                    {"id","seriesTitle","seasonTitle"?,"seasonNumber"?,"episodes"?,"year"?,"type"?,
                     "identifier"?,"episodeNumbers"?,"airDates"?,"durationMs"?}
                    (episodeNumbers: CR's own numbers; airDates: ISO dates; "-" reads standard input)
  --skip-invalid    skip bad input lines with a warning on stderr instead of stopping
  --explain         add "explanation" and "candidates" to each output line
  --help            this text

Output (stdout): one line per case, in input order:
  {"id","malId","confidence","needsReview"}   malId is null when no candidate is good enough.
Progress and warnings go to stderr.

Bad input lines: by default the CLI stops at the first bad line with an error on stderr naming the
line number and the field, and exits with status 2 (lines already matched have been written).
With --skip-invalid it writes a warning naming the line, skips it and exits 0.
Exit status: 0 success, 1 usage or catalog error, 2 bad input line.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        catalog: { type: 'string' },
        input: { type: 'string' },
        'skip-invalid': { type: 'boolean', default: false },
        explain: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`match: ${(error as Error).message}\n\n${HELP}\n`);
    return 1;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!args.catalog || !args.input) {
    process.stderr.write(`match: --catalog and --input are required\n\n${HELP}\n`);
    return 1;
  }

  let source: CatalogCandidateSource;
  const loadStarted = performance.now();
  try {
    source = await CatalogCandidateSource.fromFile(args.catalog);
  } catch (error) {
    process.stderr.write(`match: ${error instanceof CatalogLoadError ? error.message : String(error)}\n`);
    return 1;
  }
  process.stderr.write(`match: catalog ${source.size} entries loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`);

  const matcher = new Matcher(source);
  const input = args.input === '-' ? process.stdin : createReadStream(args.input);
  const inputError = new Promise<never>((_, reject) => input.once('error', reject));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let matched = 0;
  let skipped = 0;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const run = async (): Promise<number> => {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim().length === 0) continue;
      let request;
      let id: string;
      try {
        const matchCase = parseMatchCase(line, lineNumber);
        id = matchCase.id;
        request = matchCaseToRequest(matchCase);
      } catch (error) {
        if (!(error instanceof MatchCaseError)) throw error;
        if (args['skip-invalid']) {
          skipped++;
          process.stderr.write(`match: warning: skipping ${args.input} ${error.message}\n`);
          continue;
        }
        process.stderr.write(`match: error: ${args.input} ${error.message}\n`);
        return 2;
      }
      const result = await matcher.match(request);
      const output: Record<string, unknown> = { id, malId: result.malId, confidence: result.confidence, needsReview: result.needsReview };
      if (args.explain) {
        output.explanation = result.explanation.text;
        output.segments = result.segments;
        // score: the estimated chance this candidate is right, consistent with the decision.
        output.candidates = result.candidates.map((c) => ({ malId: c.malId, title: c.title, score: Number(c.score.toFixed(4)) }));
      }
      process.stdout.write(`${JSON.stringify(output)}\n`);
      matched++;
      if (matched % 200 === 0) process.stderr.write(`match: ${matched} cases…\n`);
    }
    return 0;
  };
  let status: number;
  try {
    status = await Promise.race([run(), inputError]);
  } catch (error) {
    process.stderr.write(`match: cannot read ${args.input}: ${(error as Error).message}\n`);
    return 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // Wall-clock throughput suffers when the machine is shared; CPU time shows the cost on one core.
  process.stderr.write(
    `match: ${matched} matched${skipped ? `, ${skipped} skipped` : ''} in ${seconds.toFixed(2)} s wall (${Math.round(matched / Math.max(seconds, 1e-9))} cases/s), ` +
      `${cpuSeconds.toFixed(2)} s CPU (${Math.round(matched / Math.max(cpuSeconds, 1e-9))} cases per CPU-second); catalog loading and indexing excluded\n`,
  );
  return status;
}

process.exitCode = await main();
