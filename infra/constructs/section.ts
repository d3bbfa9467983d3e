/**
 * A part of the stack (tables, functions, API, WAF, monitoring) as its own construct, to keep the
 * stack's code in pieces. A section adds no level to CloudFormation logical IDs (AnimeLogStack leaves
 * sections out when it names resources), so moving resources into one replaces nothing on deploy.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

export class Section extends Construct {
  static isSection(x: unknown): x is Section {
    return x instanceof Section;
  }
}

export function pascal(id: string): string {
  return id.replace(/(^|[-_])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * cdk-nag (v3) acknowledgement: a finding accepted on purpose, on the construct concerned, with its
 * reason. v3 matches exact finding ids (`Rule[finding]`), so wildcard findings name the resource.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** `<LogicalId.Arn>`: how cdk-nag names a construct's ARN in a finding id. */
export function arnToken(construct: IConstruct): string {
  const stack = Stack.of(construct);
  return `<${stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnResource)) as string}.Arn>`;
}
