/** The CR-shaped documents of test/fixtures/cr, one per shape and quirk. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function crFixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'cr', name), 'utf8'));
}
