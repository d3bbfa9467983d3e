// APPSYNC_JS rules are law in resolvers/: the recommended set needs type information, hence projectService.
import appsync from '@aws-appsync/eslint-plugin';
import tsParser from '@typescript-eslint/parser';
import appsyncExtra from './local/appsync/eslint-appsync-extra.mjs';

export default [
  {
    files: ['resolvers/**/*.ts'],
    languageOptions: {
      parser: tsParser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  { ...appsync.configs.recommended, files: ['resolvers/**/*.ts'] },
  { files: ['resolvers/**/*.ts'], plugins: { 'appsync-extra': appsyncExtra }, rules: { 'appsync-extra/no-throw': 'error', 'appsync-extra/no-classes': 'error' } },
];
