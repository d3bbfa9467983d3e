/**
 * The schema documents itself: over HTTP, an introspection query against the local stack shows a
 * non-empty description on every type, every field (Query, Mutation and Subscription fields included),
 * every argument, every input field and every enum value of the API (GraphQL's own `__` types and
 * built-in scalars excluded).
 */
import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { gql, useTestStack } from '../support/stack';

const stack = useTestStack({ console: false });

interface IntrospectedInput {
  name: string;
  description: string | null;
}
interface IntrospectedType {
  kind: string;
  name: string;
  description: string | null;
  fields: (IntrospectedInput & { args: IntrospectedInput[] })[] | null;
  inputFields: IntrospectedInput[] | null;
  enumValues: IntrospectedInput[] | null;
}

/** GraphQL's built-in scalars and AppSync's (defined by the service, described in AWS's documentation). */
const BUILT_IN = new Set(['String', 'Int', 'Float', 'Boolean', 'ID', 'AWSDate', 'AWSTime', 'AWSDateTime', 'AWSTimestamp', 'AWSEmail', 'AWSJSON', 'AWSURL', 'AWSPhone', 'AWSIPAddress']);
const blank = (d: string | null | undefined) => !d || d.trim() === '';

describe('schema descriptions (introspection over HTTP)', () => {
  it('describes every type, field, argument, input field and enum value', async () => {
    const result = await gql(stack, getIntrospectionQuery({ descriptions: true }));
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const schema = result.data!.__schema as { types: IntrospectedType[]; queryType: { name: string }; mutationType: { name: string }; subscriptionType: { name: string } };
    expect([schema.queryType.name, schema.mutationType.name, schema.subscriptionType.name]).toEqual(['Query', 'Mutation', 'Subscription']);

    const missing: string[] = [];
    let operations = 0;
    for (const type of schema.types) {
      if (type.name.startsWith('__') || BUILT_IN.has(type.name)) continue;
      if (blank(type.description)) missing.push(`type ${type.name}`);
      for (const field of type.fields ?? []) {
        if (['Query', 'Mutation', 'Subscription'].includes(type.name)) operations += 1;
        if (blank(field.description)) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (blank(arg.description)) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
      for (const input of type.inputFields ?? []) if (blank(input.description)) missing.push(`${type.name}.${input.name}`);
      for (const value of type.enumValues ?? []) if (blank(value.description)) missing.push(`${type.name}.${value.name}`);
    }
    expect(operations).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
