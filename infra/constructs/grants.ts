/**
 * A function's IAM statements, built from `grantedActions()` of its definition (contract/functions.ts):
 * the same list the local runtime enforces (local/grants.ts), so the deployed role and the local check
 * cannot differ. test/infra/grants.test.ts compares the synthesized policies with the local allowance.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { grantedActions, type FunctionDefinition, type GrantResource } from '#contract/functions';
import { findTable } from '#contract/tables';

/** Where the stack's resources are; `api` is absent until the API exists (its grants come after). */
export interface GrantTargets {
  tableArn(id: string): string;
  tokenKeyArn: string;
  malSecretArn: string;
  syncQueueArn: string;
  apiArn?: string;
}

/** The ARNs a grant resource stands for (a table with indexes: the table and `<table>/index/*`). */
export function resourceArns(resource: GrantResource, targets: GrantTargets): string[] | undefined {
  switch (resource.kind) {
    case 'table': {
      const arn = targets.tableArn(resource.table);
      return findTable(resource.table)?.globalSecondaryIndexes?.length ? [arn, `${arn}/index/*`] : [arn];
    }
    case 'token-key':
      return [targets.tokenKeyArn];
    case 'mal-secret':
      return [targets.malSecretArn];
    case 'sync-queue':
      return [targets.syncQueueArn];
    case 'api-field':
      return targets.apiArn ? [`${targets.apiArn}/types/${resource.typeName}/fields/${resource.fieldName}`] : undefined;
  }
}

/** One statement per grant whose resource `targets` can name; `kinds` narrows to some resource kinds. */
export function grantStatements(definition: FunctionDefinition, targets: GrantTargets, kinds?: readonly GrantResource['kind'][]): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  for (const grant of grantedActions(definition)) {
    if (kinds && !kinds.includes(grant.resource.kind)) continue;
    const resources = resourceArns(grant.resource, targets);
    if (!resources) continue;
    statements.push(new iam.PolicyStatement({ actions: [...grant.actions], resources }));
  }
  return statements;
}
