// The module rule as a lint error: which top-level folder may import which. `contract/` imports nothing
// outside itself; `resolvers/` reads only `contract/`, generated types and `@aws-appsync/*`; `functions/`
// never reads `infra/`, `local/`, `resolvers/` or `scripts/`; `infra/` and `local/` never read each other
// or `scripts/`. Relative paths and the `#contract/*` alias are resolved to the folder they land in.
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** folder → the folders it must not import (a package name is judged by `packages`). */
const RULES = {
  contract: { allowFolders: ['contract'], packages: () => false },
  resolvers: { allowFolders: ['resolvers', 'contract', 'generated'], packages: (name) => name.startsWith('@aws-appsync/') },
  functions: { denyFolders: ['infra', 'local', 'resolvers', 'scripts'] },
  infra: { denyFolders: ['local', 'scripts', 'resolvers'] },
  local: { denyFolders: ['infra', 'resolvers'] },
};

function topFolder(absolute) {
  const rel = relative(ROOT, absolute);
  if (rel.startsWith('..')) return '(outside)';
  return rel.split(sep)[0];
}

function targetOf(specifier, file) {
  if (specifier.startsWith('#contract/')) return { folder: 'contract' };
  if (specifier.startsWith('.')) return { folder: topFolder(resolve(dirname(file), specifier)) };
  if (specifier.startsWith('node:')) return { builtin: true };
  return { pkg: specifier };
}

export default {
  meta: { name: 'import-boundaries' },
  rules: {
    'import-boundaries': {
      meta: { type: 'problem', docs: { description: 'one-way imports between the top-level folders' }, schema: [] },
      create(context) {
        const file = context.filename;
        const from = topFolder(file);
        const rule = RULES[from];
        if (!rule) return {};
        const check = (node, specifier) => {
          if (typeof specifier !== 'string') return;
          const target = targetOf(specifier, file);
          let allowed = true;
          if (rule.allowFolders) {
            if (target.folder) allowed = rule.allowFolders.includes(target.folder);
            else allowed = Boolean(target.pkg && rule.packages(target.pkg));
          } else if (target.folder) {
            allowed = !rule.denyFolders.includes(target.folder);
          }
          if (!allowed) context.report({ node, message: `${from}/ must not import '${specifier}' (module rule: see README "Module rule")` });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
        };
      },
    },
  },
};
