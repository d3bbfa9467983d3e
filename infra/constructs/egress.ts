/**
 * An optional fixed egress address for the functions that call MAL. MAL is known to block cloud
 * providers' address ranges; with this on (`-c fixedEgress=true`) those functions run in a VPC whose only
 * way out is one NAT gateway with one Elastic IP, an address that can be given to MAL (or anyone) to
 * allow. DynamoDB is reached through a gateway endpoint (free, and off the NAT's data charges).
 */
import { CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface FixedEgressProps {
  /** `${project}-${stage}`, for names. */
  namePrefix: string;
  logRetention: logs.RetentionDays;
}

export class FixedEgress extends Construct {
  /** What Lambda needs to attach a function to the VPC (AWS's AWSLambdaVPCAccessExecutionRole). */
  static readonly NETWORK_INTERFACE_ACTIONS = [
    'ec2:CreateNetworkInterface',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DescribeSubnets',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
  ] as const;

  readonly vpc: ec2.Vpc;
  readonly address: ec2.CfnEIP;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: FixedEgressProps) {
    super(scope, id);
    this.address = new ec2.CfnEIP(this, 'Address', { domain: 'vpc', tags: [{ key: 'Name', value: `${props.namePrefix}-mal-egress` }] });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: `${props.namePrefix}-egress`,
      maxAzs: 2,
      // One NAT gateway for every private subnet: one address on the way out.
      natGateways: 1,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: [this.address.attrAllocationId] }),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: false,
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention });
    this.vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT });
    // HTTPS out only (MAL, and the AWS APIs behind the NAT); nothing comes in.
    this.securityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc: this.vpc,
      description: 'AnimeLog functions that call MAL: HTTPS out through the fixed egress address',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to MAL and AWS APIs');
    new CfnOutput(scope, 'MalEgressAddress', { value: this.address.ref, description: 'The fixed address MAL requests come from (allow-list it)' });
  }

  /** Where a MAL-calling function runs. */
  functionPlacement(): { vpc: ec2.IVpc; vpcSubnets: ec2.SubnetSelection; securityGroups: ec2.ISecurityGroup[] } {
    return { vpc: this.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [this.securityGroup] };
  }
}
