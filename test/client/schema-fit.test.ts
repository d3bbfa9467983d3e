/**
 * The client's operations are checked against schema.graphql when they are generated: the real
 * documents generate, and an operation that no longer fits the schema fails the build (codegen is the
 * first step of `npm test`).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import { testTempDir } from '../support/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const SCHEMA = [join(ROOT, 'schema.graphql'), join(ROOT, 'local/appsync/prelude.graphql')];

function config(documents: string) {
  return {
    schema: SCHEMA,
    documents,
    silent: true,
    generates: { [join(tmpdir(), 'animelog-client-check.ts')]: { plugins: ['typescript-operations', 'typed-document-node'], config: { documentMode: 'string' } } },
  };
}

describe('client operations against the schema', () => {
  it('generates typed documents for every operation in client/operations', async () => {
    const [output] = await generate(config(join(ROOT, 'client/operations/*.graphql')), false);
    for (const name of ['StartLogin', 'CompleteLogin', 'Me', 'ProcessHistory', 'OnSyncProgress', 'Series', 'MatchCandidates', 'ConfirmMatch']) {
      expect(output.content).toContain(`export const ${name}Document`);
    }
  });

  it('fails on an operation that asks for a field the schema does not have', async () => {
    const dir = testTempDir('animelog-ops-');
    writeFileSync(join(dir, 'broken.graphql'), 'query Broken { me { userId favouriteColour } }\n');
    await expect(generate(config(join(dir, '*.graphql')), false)).rejects.toThrow(/favouriteColour/);
  });

  it('fails on an operation whose argument changed type', async () => {
    const dir = testTempDir('animelog-ops-');
    writeFileSync(join(dir, 'broken.graphql'), 'query Broken($id: Int!) { syncJob(id: $id) { jobId } }\n');
    await expect(generate(config(join(dir, '*.graphql')), false)).rejects.toThrow();
  });
});
