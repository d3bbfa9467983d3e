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
export { Catalog, loadCatalog, parseFields, normalizeForSearch, DEFAULT_CATALOG_PATH, CatalogLoadError, type CatalogRecord } from './catalog';
export { type SandboxListStatus, type SandboxSeedEntry, ListsFileError } from './lists';
