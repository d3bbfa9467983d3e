/**
 * The public interface: the CDK CLI synthesises the app (cdk.json) with no AWS credentials at all, and
 * cdk-nag runs as part of it (an unacknowledged finding fails the command). Written to a temporary
 * output directory so the shared cdk.out and dist/ are left alone (`npm run synth` would also rebuild
 * dist/resolvers under the feet of other test files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/stack';

const out = mkdtempSync(join(tmpdir(), 'animelog-synth-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The environment minus anything that could give the CLI credentials or make it reach AWS. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('CDK_')) delete env[key];
  return {
    ...env,
    AWS_CONFIG_FILE: join(out, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(out, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

function cdkSynth(args: string[], outdir: string) {
  const started = Date.now();
  // The project's CLI directly: npx would spend a second or two finding it.
  const result = spawnSync(join(REPO_ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '-o', outdir, ...args], {
    cwd: REPO_ROOT,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { ...result, ms: Date.now() - started };
}

describe('cdk synth (CLI, no credentials)', () => {
  it('writes <stack>.template.json for the default stage (dev)', () => {
    const dir = join(out, 'dev');
    const r = cdkSynth([], dir);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const template = join(dir, 'animelog-dev.template.json');
    expect(existsSync(template)).toBe(true);
    const json = JSON.parse(readFileSync(template, 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(json.Resources).some((x) => x.Type === 'AWS::AppSync::GraphQLApi')).toBe(true);
    // No version reporting resource, no notices banner.
    expect(Object.values(json.Resources).some((x) => x.Type === 'AWS::CDK::Metadata')).toBe(false);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/NOTICES/);
  }, 180_000);

  it('honours -c stage=prod', () => {
    const dir = join(out, 'prod');
    const r = cdkSynth(['-c', 'stage=prod'], dir);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(existsSync(join(dir, 'animelog-prod.template.json'))).toBe(true);
    expect(existsSync(join(dir, 'animelog-dev.template.json'))).toBe(false);
  }, 180_000);
});
