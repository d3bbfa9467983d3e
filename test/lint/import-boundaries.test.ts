/**
 * The module rule is a lint error when broken: each forbidden import, linted as if it stood in that folder,
 * is reported; the allowed ones are not.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import appsync from '@aws-appsync/eslint-plugin';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
// The repository's own config, minus what only slows this test down: the APPSYNC_JS rules need type
// information, which builds a TypeScript program of the whole project; the module rule needs none.
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: Object.fromEntries(Object.keys((appsync.configs?.recommended as { rules?: Record<string, unknown> } | undefined)?.rules ?? {}).map((rule) => [rule, 'off'])),
  },
});

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'boundaries/import-boundaries').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['contract/tables.ts', "import { ky } from 'ky';"],
    ['contract/tables.ts', "import { a } from '../functions/shared/config';"],
    ['resolvers/Query.me.ts', "import { a } from '../functions/shared/config';"],
    ['resolvers/Query.me.ts', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';"],
    ['functions/sync/x.ts', "import { a } from '../../infra/stack';"],
    ['functions/sync/x.ts', "import { a } from '../../local/stack';"],
    ['functions/sync/x.ts', "import { a } from '../../resolvers/lib/response';"],
    ['functions/sync/x.ts', "import { a } from '../../scripts/build-resolvers';"],
    ['infra/x.ts', "import { a } from '../scripts/build-resolvers';"],
    ['infra/x.ts', "import { a } from '../local/stack';"],
    ['local/x.ts', "import { a } from '../infra/stack';"],
    ['functions/sync/x.ts', "export * from '../../local/stack';"],
  ])('%s: %s is an error', async (file, code) => {
    expect(await boundaryErrors(file, code)).toHaveLength(1);
  });

  it.each([
    ['contract/tables.ts', "import type { TableId } from './tables';"],
    ['resolvers/Query.me.ts', "import { util } from '@aws-appsync/utils';\nimport { SETTINGS_SK } from '#contract/settings';\nimport { ok } from './lib/response';"],
    ['functions/sync/x.ts', "import { TABLES } from '#contract/tables';\nimport ky from 'ky';\nimport { a } from '../shared/config';"],
    ['infra/x.ts', "import { TABLES } from '#contract/tables';\nimport * as cdk from 'aws-cdk-lib';"],
    ['local/x.ts', "import { TABLES } from '#contract/tables';\nimport { handler } from '../functions/handlers/auth';"],
  ])('%s: allowed imports pass', async (file, code) => {
    expect(await boundaryErrors(file, code)).toEqual([]);
  });
});
