/**
 * A part of the stack (tables, functions, API, WAF, monitoring) as its own construct, to keep the
 * stack's code in pieces. A section adds no level to CloudFormation logical IDs (AnimeLogStack leaves
 * sections out when it names resources), so moving resources into one replaces nothing on deploy.
 */
import { Construct } from 'constructs';

export class Section extends Construct {
  static isSection(x: unknown): x is Section {
    return x instanceof Section;
  }
}

export function pascal(id: string): string {
  return id.replace(/(^|[-_])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
