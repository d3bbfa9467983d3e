/**
 * The one structured logger of every function: Powertools for AWS Lambda's Logger (JSON lines with
 * level, message, service, timestamp and the keys given). Level from POWERTOOLS_LOG_LEVEL (default INFO).
 * Callers pass explicit fields — error names and messages, ids — never an event, a token or a request.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'animelog' });

/** A logger whose every line carries `component`. */
export function componentLogger(component: string): Logger {
  return logger.createChild({ persistentKeys: { component } });
}

/** An error as log fields: its name and message, without the stack (which may quote inputs). */
export function errorFields(error: unknown): { error?: string; detail?: string } {
  const e = error as { name?: string; message?: string } | undefined;
  return { error: e?.name, detail: e?.message };
}
