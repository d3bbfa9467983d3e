// APPSYNC_JS rules are law in resolvers/: the recommended set needs type information, hence projectService.
import appsync from '@aws-appsync/eslint-plugin';
import tsParser from '@typescript-eslint/parser';

export default [
  {
    files: ['resolvers/**/*.ts'],
    languageOptions: {
      parser: tsParser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  { ...appsync.configs.recommended, files: ['resolvers/**/*.ts'] },
];
