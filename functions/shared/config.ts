/**
 * Configuration of the functions, from the environment (set by CDK in AWS and by the local stack).
 * Read lazily so that the local stack can set the environment before the first call.
 */
import { PROJECT, physicalTableName, type TableId } from '#contract/tables';

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export function stage(): string {
  return process.env.STAGE ?? 'local';
}

/** Physical table name: `TABLE_<ID>` (e.g. TABLE_USER_TOKENS) when set, else `${project}-${stage}-${id}`. */
export function tableName(id: TableId): string {
  const override = process.env[`TABLE_${id.toUpperCase().replace(/-/g, '_')}`];
  return override ?? physicalTableName(id, stage());
}

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}

export function optional(name: string, fallback: string): string {
  return process.env[name] || fallback;
}

export { PROJECT };
