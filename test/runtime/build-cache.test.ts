/**
 * Build skipping: a build step runs only when the content of its inputs changed or an output is missing,
 * steps see the outputs of the steps before them, a failed step runs again next time. (That `npm start`
 * with nothing changed builds nothing is tested in npm-start.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilt, inputHash, BUILD_STEPS, type BuildStep } from '../../local/build-cache';

const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Two steps: `gen` copies src/ into gen.txt (counting its runs), `bundle` reads gen.txt into out/bundle.txt. */
function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'animelog-build-cache-'));
  dirs.push(root);
  mkdirSync(join(root, 'src', 'nested'), { recursive: true });
  writeFileSync(join(root, 'src', 'a.txt'), 'one');
  writeFileSync(join(root, 'src', 'nested', 'b.txt'), 'two');
  const node = process.execPath;
  const steps: BuildStep[] = [
    {
      name: 'gen',
      command: [node, '-e', `const fs=require('fs');fs.appendFileSync('runs.log','gen\\n');fs.writeFileSync('gen.txt',fs.readFileSync('src/a.txt','utf8')+fs.readFileSync('src/nested/b.txt','utf8'))`],
      inputs: ['src'],
      outputs: ['gen.txt'],
    },
    {
      name: 'bundle',
      command: [node, '-e', `const fs=require('fs');if(fs.existsSync('fail'))process.exit(3);fs.appendFileSync('runs.log','bundle\\n');fs.mkdirSync('out',{recursive:true});fs.writeFileSync('out/bundle.txt',fs.readFileSync('gen.txt','utf8').toUpperCase())`],
      inputs: ['gen.txt'],
      outputs: ['out/bundle.txt'],
    },
  ];
  const runs = () => (existsSync(join(root, 'runs.log')) ? readFileSync(join(root, 'runs.log'), 'utf8').trim().split('\n') : []);
  const build = () => ensureBuilt({ root, steps }).map((o) => `${o.name}:${o.reason}`);
  return { root, steps, runs, build };
}

describe('build steps skipped by content hash', () => {
  it('runs each step once, then skips both while nothing changed', () => {
    const f = fixture();
    expect(f.build()).toEqual(['gen:output missing', 'bundle:output missing']);
    expect(readFileSync(join(f.root, 'out', 'bundle.txt'), 'utf8')).toBe('ONETWO');
    expect(f.build()).toEqual(['gen:up to date', 'bundle:up to date']);
    expect(f.runs()).toEqual(['gen', 'bundle']);
  });

  it('reruns a step whose input content changed (a nested file too), and the step that reads its output', () => {
    const f = fixture();
    f.build();
    writeFileSync(join(f.root, 'src', 'nested', 'b.txt'), 'three');
    expect(f.build()).toEqual(['gen:inputs changed', 'bundle:inputs changed']);
    expect(readFileSync(join(f.root, 'out', 'bundle.txt'), 'utf8')).toBe('ONETHREE');
    // Same content written again: nothing to do (a touch alone does not rebuild).
    writeFileSync(join(f.root, 'src', 'nested', 'b.txt'), 'three');
    expect(f.build()).toEqual(['gen:up to date', 'bundle:up to date']);
    // A new input file counts as a change.
    writeFileSync(join(f.root, 'src', 'c.txt'), 'new');
    expect(f.build()).toEqual(['gen:inputs changed', 'bundle:up to date']);
  });

  it('reruns a step whose output is missing, and a failed step on the next build', () => {
    const f = fixture();
    f.build();
    rmSync(join(f.root, 'out'), { recursive: true });
    expect(f.build()).toEqual(['gen:up to date', 'bundle:output missing']);
    writeFileSync(join(f.root, 'src', 'a.txt'), 'changed');
    writeFileSync(join(f.root, 'fail'), '');
    expect(() => f.build()).toThrow(/bundle failed/);
    rmSync(join(f.root, 'fail'));
    expect(f.build()).toEqual(['gen:up to date', 'bundle:inputs changed']);
    expect(readFileSync(join(f.root, 'out', 'bundle.txt'), 'utf8')).toBe('CHANGEDTWO');
  });

  it('hashes the command as well as the inputs', () => {
    const f = fixture();
    const step = f.steps[0]!;
    expect(inputHash(f.root, step)).toBe(inputHash(f.root, { ...step }));
    expect(inputHash(f.root, { ...step, command: [...step.command, '--other'] })).not.toBe(inputHash(f.root, step));
  });

  it('covers codegen, the resolver bundles and the console page of this repository', () => {
    expect(BUILD_STEPS.map((s) => s.name)).toEqual(['codegen', 'resolvers', 'console']);
    for (const step of BUILD_STEPS) for (const input of step.inputs) expect(existsSync(join(ROOT, input)), `${step.name}: ${input}`).toBe(true);
  });
});
