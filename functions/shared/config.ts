/**
 * The functions' configuration: the one place in functions/ that reads the environment (set by CDK in
 * AWS and by the local stack; names in contract/env.ts). Read lazily, so that the local stack can set the
 * environment before the first call. Values a function learns at run time (the MAL client's credentials
 * from Secrets Manager) are provided here too, never written into process.env.
 */
import { ENV, tableEnvName, type EnvName } from '#contract/env';
import { PROJECT, physicalTableName, type TableId } from '#contract/tables';

export class ConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

const provided = new Map<string, string>();

/** A variable's value (provided at run time, else the environment's), or undefined when unset or empty. */
export function env(name: EnvName | string): string | undefined {
  const value = provided.get(name) ?? process.env[name];
  return value === '' ? undefined : value;
}

/** A positive number from the environment, or `fallback` when unset or not a positive number. */
export function envNumber(name: EnvName | string, fallback: number): number {
  const value = Number(env(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Makes a value learnt at run time (a secret's field) readable through env() in this container. */
export function provideEnv(name: EnvName, value: string): void {
  provided.set(name, value);
}

/** Every variable as one object, for the configuration readers that take the whole environment. */
export function environment(): Record<string, string | undefined> {
  return { ...process.env, ...Object.fromEntries(provided) };
}

const resets = new Set<() => void>();

/** Registers how a module forgets what it built from the environment (its client), for resetEnvironment. */
export function onEnvironmentReset(reset: () => void): void {
  resets.add(reset);
}

/**
 * For the local stack when it restarts in one process with other endpoints (tests): forget the values
 * provided at run time and what the loaded modules built from them. A module not loaded yet has nothing to forget.
 */
export function resetEnvironment(): void {
  provided.clear();
  for (const reset of resets) reset();
}

export function stage(): string {
  return env(ENV.STAGE) ?? 'local';
}

/** Physical table name: `TABLE_<ID>` (e.g. TABLE_USER_TOKENS) when set, else `${project}-${stage}-${id}`. */
export function tableName(id: TableId): string {
  return env(tableEnvName(id)) ?? physicalTableName(id, stage());
}

export { ENV, PROJECT };
