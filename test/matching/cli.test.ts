import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTO_ACCEPT_THRESHOLD } from '../../functions/matching/matcher';
import { testTempDir } from '../support/temp';

const repoRoot = resolve(new URL('../..', import.meta.url).pathname);
const tsx = join(repoRoot, 'node_modules/.bin/tsx');
const catalog = join(repoRoot, 'test/fixtures/mal-catalog.small.jsonl');
const cases = join(repoRoot, 'test/fixtures/match-cases.small.jsonl');

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, ['scripts/match-cli.ts', ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('match CLI (end to end)', () => {
  it('writes one JSON line per case, in order', async () => {
    const { code, stdout, stderr } = await runCli(['--catalog', catalog, '--input', cases]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.id)).toEqual(['mob', 'aot3', 'slug', 'nothing']);
    // A bare series title of a franchise with later seasons: right entry, needsReview follows the threshold.
    expect(lines[0]).toEqual({ id: 'mob', malId: 32182, confidence: expect.any(Number), needsReview: expect.any(Boolean) });
    expect(lines[0].needsReview).toBe(lines[0].confidence < DEFAULT_AUTO_ACCEPT_THRESHOLD);
    expect(lines[0].confidence).toBeGreaterThan(0.9);
    expect(lines[1].malId).toBe(35760);
    expect(lines[2].malId).toBe(9253);
    expect(lines[3]).toEqual({ id: 'nothing', malId: null, confidence: 0, needsReview: true });
    expect(stderr).toMatch(/4 matched/);
  });

  it('stops with exit status 2 at a bad line, naming it; --skip-invalid skips it instead', async () => {
    const dir = testTempDir('match-cli-');
    const input = join(dir, 'cases.jsonl');
    writeFileSync(input, '{"id":"a","seriesTitle":"Mob Psycho 100"}\n{"id":"b","seriesTitle":7}\nnot json\n');
    const strict = await runCli(['--catalog', catalog, '--input', input]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('line 2: seriesTitle: expected a string');
    expect(strict.stdout.trim().split('\n')).toHaveLength(1);

    const lenient = await runCli(['--catalog', catalog, '--input', input, '--skip-invalid']);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('line 3: not valid JSON');
    expect(lenient.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('explains usage and fails without required options', async () => {
    const { code, stderr } = await runCli(['--input', cases]);
    expect(code).toBe(1);
    expect(stderr).toContain('--catalog and --input are required');
  });
});
