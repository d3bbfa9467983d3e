/**
 * MAL blocking, the infrastructure part: an alarm on the MalBlocked metric in every stack, and with
 * `fixedEgress` the MAL-calling functions behind one NAT gateway with one Elastic IP (an address MAL can
 * be asked to allow), cdk-nag clean. Offline synth, Lambda bundling skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS } from '#contract/functions';
import { METRIC, METRICS_NAMESPACE } from '#contract/metrics';
import { logicalId, synth, type Synthesised } from './support';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const ofType = (s: Synthesised, type: string) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);

describe('with the fixed egress address (-c fixedEgress=true)', () => {
  let s: Synthesised;
  beforeAll(() => {
    s = synth({ stage: 'dev', context: { ...NO_BUNDLING, fixedEgress: 'true' } });
  }, 120_000);
  afterAll(() => s?.cleanup());

  it('has one Elastic IP, used by the one NAT gateway, and outputs it', () => {
    const eips = ofType(s, 'AWS::EC2::EIP');
    expect(eips).toHaveLength(1);
    const nats = ofType(s, 'AWS::EC2::NatGateway');
    expect(nats).toHaveLength(1);
    expect(nats[0]![1].Properties.AllocationId).toEqual({ 'Fn::GetAtt': [eips[0]![0], 'AllocationId'] });
    const outputs = (s.template.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(outputs.MalEgressAddress?.Value).toEqual({ Ref: eips[0]![0] });
  });

  it('runs exactly the MAL-calling functions in the VPC, in private subnets, HTTPS out only', () => {
    const privateSubnets = new Set(
      ofType(s, 'AWS::EC2::Subnet').filter(([, r]) => r.Properties.MapPublicIpOnLaunch === false).map(([id]) => id),
    );
    expect(privateSubnets.size).toBeGreaterThan(0);
    for (const def of FUNCTIONS) {
      const fn = s.json.Resources[logicalId(s.stack, s.stack.functions.get(def.id)!)];
      const vpc = fn.Properties.VpcConfig;
      if (!def.callsMal) {
        expect(vpc, def.id).toBeUndefined();
        continue;
      }
      expect(vpc.SubnetIds.map((x: { Ref: string }) => x.Ref).every((id: string) => privateSubnets.has(id)), def.id).toBe(true);
      const [sg] = vpc.SecurityGroupIds.map((x: { 'Fn::GetAtt': [string] }) => s.json.Resources[x['Fn::GetAtt'][0]]);
      expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' })]);
      expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
      // Lambda can attach it: the role has the network-interface permissions (our own role gets no managed policy).
      const role = s.json.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
      expect(role.Properties.ManagedPolicyArns, def.id).toBeUndefined();
      const statements = Object.values(s.json.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === fn.Properties.Role['Fn::GetAtt'][0]))
        .flatMap((r) => r.Properties.PolicyDocument.Statement);
      expect(statements.some((st: { Action: string[] }) => [st.Action].flat().includes('ec2:CreateNetworkInterface')), def.id).toBe(true);
    }
    // Private subnets route to the internet only through the NAT gateway.
    const natId = ofType(s, 'AWS::EC2::NatGateway')[0]![0];
    const defaultRoutes = ofType(s, 'AWS::EC2::Route').filter(([, r]) => r.Properties.DestinationCidrBlock === '0.0.0.0/0' && r.Properties.NatGatewayId);
    expect(defaultRoutes.length).toBe(privateSubnets.size);
    for (const [, r] of defaultRoutes) expect(r.Properties.NatGatewayId).toEqual({ Ref: natId });
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.stack);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(findings).toEqual([]);
    expect(Annotations.fromStack(s.stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('by default', () => {
  let s: Synthesised;
  beforeAll(() => {
    s = synth({ stage: 'dev', context: NO_BUNDLING });
  }, 120_000);
  afterAll(() => s?.cleanup());

  it('keeps logical IDs where they were when parts of the stack moved into section constructs (no replacement on deploy)', () => {
    // WAF and monitoring live in sections (infra/constructs); their resources keep their stack-level IDs.
    const path = (c: { node: { path: string } }) => c.node.path;
    expect(path(s.stack.webAcl)).toContain('/Firewall/');
    expect(path(s.stack.alarmTopic)).toContain('/Monitoring/');
    expect(s.stack.resolve(s.stack.getLogicalId(s.stack.webAcl))).toBe('WebAcl');
    expect(logicalId(s.stack, s.stack.alarmTopic)).toMatch(/^AlarmTopic[0-9A-F]{8}$/);
    for (const a of s.stack.alarms) expect(logicalId(s.stack, a)).not.toMatch(/^Monitoring/);
  });

  it('has no VPC, NAT gateway or Elastic IP', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP']) expect(ofType(s, type), type).toHaveLength(0);
  });

  it('alarms on the MalBlocked metric (the name the MAL client emits, from contract/metrics.ts)', () => {
    const alarms = ofType(s, 'AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.MetricName === METRIC.MalBlocked);
    expect(alarms).toHaveLength(1);
    const p = alarms[0]![1].Properties;
    expect(p.Namespace).toBe(METRICS_NAMESPACE);
    expect(p.Threshold).toBe(1);
    expect(p.Dimensions).toEqual([{ Name: 'Stage', Value: 'dev' }]);
    expect(p.AlarmActions).toHaveLength(1);
  });
});
