/**
 * Rejects bundle code that the APPSYNC_JS runtime would reject, using the base rules of
 * @aws-appsync/eslint-plugin on the built JavaScript (the sources are also linted, with type
 * information, by `npm run lint`). Running it on bundles catches what a dependency pulled in.
 */
import { Linter } from 'eslint';
import appsync from '@aws-appsync/eslint-plugin';
// @ts-expect-error plain JS module shared with eslint.config.mjs
import appsyncExtra from './eslint-appsync-extra.mjs';

export class AppSyncCodeRejectedError extends Error {
  readonly violations: { ruleId: string; message: string; line: number; column: number }[];
  constructor(file: string, violations: AppSyncCodeRejectedError['violations']) {
    const first = violations
      .slice(0, 5)
      .map((v) => `${file}:${v.line}:${v.column} ${v.ruleId}: ${v.message}`)
      .join('\n');
    super(`APPSYNC_JS would reject ${file}:\n${first}`);
    this.name = 'AppSyncCodeRejectedError';
    this.violations = violations;
  }
}

const linter = new Linter({ configType: 'flat' });
const config: Linter.Config[] = [
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
  },
  { ...(appsync.configs!.base as unknown as Linter.Config), files: ['**/*.js'] },
  { files: ['**/*.js'], plugins: { 'appsync-extra': appsyncExtra }, rules: { 'appsync-extra/no-throw': 'error', 'appsync-extra/no-classes': 'error' } },
];

export function checkAppSyncBundle(file: string, code: string): void {
  const messages = linter.verify(code, config, { filename: 'bundle.js' });
  const violations = messages.map((m) => ({
    ruleId: m.ruleId ?? 'syntax',
    message: m.message,
    line: m.line,
    column: m.column,
  }));
  if (violations.length > 0) throw new AppSyncCodeRejectedError(file, violations);
}
