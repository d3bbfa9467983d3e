/**
 * The resolver build's manifest (dist/resolvers/manifest.json): which bundle serves which type/field and
 * through which data source. Written by scripts/build-resolvers.ts; read by infra/ (CDK) and by the local
 * runtime, so both wire the same bundles the same way.
 */
export interface ResolverManifestEntry {
  typeName: string;
  fieldName: string;
  kind: 'unit' | 'pipeline';
  /** Unit resolvers only. */
  dataSource?: string;
  /** Pipeline resolvers only: function names in order. */
  functions?: string[];
  /** Bundle file, relative to the manifest. */
  code: string;
}

export interface FunctionManifestEntry {
  name: string;
  dataSource: string;
  code: string;
}

export interface ResolverManifest {
  resolvers: ResolverManifestEntry[];
  functions: FunctionManifestEntry[];
}
