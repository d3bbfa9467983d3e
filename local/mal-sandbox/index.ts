/** The MAL sandbox's public surface (what `npm start`, the CLI and tests import). */
export {
  startMalSandbox,
  type MalSandbox,
  type MalSandboxOptions,
  type MalSandboxFaults,
  type MalSandboxFaultUpdate,
  type MalSandboxRequestLogEntry,
  type MalSandboxStats,
} from './server';
export {
  Catalog,
  loadCatalog,
  parseFields,
  normalizeForSearch,
  DEFAULT_CATALOG_PATH,
  RELATION_LABELS,
  CatalogLoadError,
  CatalogUpdateError,
  type CatalogRecord,
  type NsfwLevel,
} from './catalog';
export { OBSERVED_ACCESS_TOKEN_LIFETIME_SECONDS } from './state';
export { type SandboxListStatus, type SandboxSeedEntry, ListsFileError } from './lists';
