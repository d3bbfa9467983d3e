// APPSYNC_JS rules are law in resolvers/ and in contract/ (which resolvers bundle): the recommended set
// needs type information, hence projectService. The module rule (eslint-rules/import-boundaries.mjs)
// holds everywhere.
import appsync from '@aws-appsync/eslint-plugin';
import tsParser from '@typescript-eslint/parser';
import appsyncExtra from './local/appsync/eslint-appsync-extra.mjs';
import boundaries from './eslint-rules/import-boundaries.mjs';

const APPSYNC_JS = ['resolvers/**/*.ts', 'contract/**/*.ts'];

export default [
  { ignores: ['node_modules/**', 'dist/**', 'generated/**', 'cdk.out/**', '.local/**', 'coverage/**', 'test/fixtures/**'] },
  { files: ['**/*.ts'], languageOptions: { parser: tsParser } },
  {
    files: APPSYNC_JS,
    languageOptions: {
      parser: tsParser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  { ...appsync.configs.recommended, files: APPSYNC_JS },
  { files: APPSYNC_JS, plugins: { 'appsync-extra': appsyncExtra }, rules: { 'appsync-extra/no-throw': 'error', 'appsync-extra/no-classes': 'error' } },
  { files: ['**/*.ts', '**/*.mjs'], plugins: { boundaries }, rules: { 'boundaries/import-boundaries': 'error' } },
];
