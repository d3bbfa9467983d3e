// Gaps of @aws-appsync/eslint-plugin that APPSYNC_JS still rejects: `throw` (resolvers stop with
// util.error) and class expressions (esbuild turns `class X {}` into `var X = class {}`, which the
// plugin's no-classes, looking only at declarations, lets through). Used by the source lint and the
// bundle check alike.
export default {
  meta: { name: 'appsync-extra' },
  rules: {
    'no-throw': {
      meta: { type: 'problem', docs: { description: 'throw is not supported in APPSYNC_JS; use util.error' }, schema: [] },
      create(context) {
        return {
          ThrowStatement(node) {
            context.report({ node, message: 'throw statements are not supported; use util.error()' });
          },
        };
      },
    },
    'no-classes': {
      meta: { type: 'problem', docs: { description: 'classes are not supported in APPSYNC_JS' }, schema: [] },
      create(context) {
        return {
          ClassExpression(node) {
            context.report({ node, message: 'Class expressions are not supported.' });
          },
        };
      },
    },
  },
};
