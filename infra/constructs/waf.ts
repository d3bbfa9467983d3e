/**
 * The API's web ACL: a per-IP rate rule and two cheap AWS managed rule groups, associated with the API.
 */
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { Section } from './section';

/**
 * WAF per-IP rate limit on the API: requests per source IP per window; over it WAF answers 403 until
 * the rate drops. Generous on purpose (users behind one NAT share an IP; an upload of a long history
 * is many `processHistory` parts); per-user limits are enforced by the application.
 */
export const WAF_RATE_LIMIT = { requestsPerWindow: 1000, windowSeconds: 300 } as const;

export interface ApiFirewallProps {
  apiArn: string;
  /** `${project}-${stage}` */
  namePrefix: string;
  name(suffix: string): string;
}

export class ApiFirewall extends Section {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
      const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
        cloudWatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName,
      });
      const managedRule = (priority: number, ruleName: string): wafv2.CfnWebACL.RuleProperty => ({
        name: ruleName,
        priority,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: ruleName } },
        visibilityConfig: visibility(`${props.namePrefix}-${ruleName}`),
      });
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        name: props.name('api'),
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: visibility(props.name('api-waf')),
        rules: [
          {
            name: 'RateLimitPerIp',
            priority: 0,
            action: { block: {} },
            statement: {
              rateBasedStatement: {
                aggregateKeyType: 'IP',
                limit: WAF_RATE_LIMIT.requestsPerWindow,
                evaluationWindowSec: WAF_RATE_LIMIT.windowSeconds,
              },
            },
            visibilityConfig: visibility(props.name('rate-limit-per-ip')),
          },
          // Cheap, low false-positive groups. Not the Core rule set: its 8 KB body limit would block
          // history uploads (processHistory), which are legitimately larger.
          managedRule(1, 'AWSManagedRulesAmazonIpReputationList'),
          managedRule(2, 'AWSManagedRulesKnownBadInputsRuleSet'),
        ],
      });
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: props.apiArn, webAclArn: this.webAcl.attrArn });
  }
}
