/**
 * Monitoring: the encrypted alarm topic, an alarm per failure worth waking someone for (Lambda errors
 * and throttles, dead letters, queue age, API 5XX, the custom metrics of contract/metrics.ts) and the
 * overview dashboard.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { FunctionId } from '#contract/functions';
import { METRIC, METRICS_NAMESPACE, METRIC_DIMENSION_STAGE } from '#contract/metrics';
import { Section, pascal } from './section';

export interface MonitoringProps {
  stage: string;
  name(suffix: string): string;
  functions: ReadonlyMap<FunctionId, NodejsFunction>;
  syncQueue: sqs.IQueue;
  syncDeadLetterQueue: sqs.IQueue;
  apiId: string;
  alarmEmail?: string;
}

export class Monitoring extends Section {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
      const alarmKey = new kms.Key(this, 'AlarmTopicKey', {
        alias: `alias/${props.name('alarms')}`,
        description: 'AnimeLog: encryption of the alarm topic.',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      // CloudWatch publishes to the encrypted topic: it needs the key.
      alarmKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { topicName: props.name('alarms'), masterKey: alarmKey, enforceSSL: true });
      if (props.alarmEmail) this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
      const alarmAction = new cwActions.SnsAction(this.alarmTopic);
      const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
        const a = new cloudwatch.Alarm(this, id, {
          alarmName: props.name(id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()),
          alarmDescription: description,
          metric,
          threshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        a.addAlarmAction(alarmAction);
        this.alarms.push(a);
        return a;
      };
      const fiveMinutes = Duration.minutes(5);

      for (const [fnId, fn] of props.functions) {
        const cid = pascal(fnId);
        alarm(`${cid}Errors`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), 1, `${fnId}: any invocation error in 5 minutes.`);
        alarm(`${cid}Throttles`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), 1, `${fnId}: any throttled invocation in 5 minutes.`);
      }
      alarm(
        'SyncDlqDepth',
        props.syncDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        1,
        'Sync messages in the dead-letter queue (a job step failed every retry). Inspect and redrive.',
      );
      alarm(
        'SyncQueueAge',
        props.syncQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
        // An hour, not minutes: a message stays in flight while the worker runs its job (up to the function
        // timeout) and jobs of a busy user are redelivered later; only a backlog gets this old.
        3600,
        'The oldest sync message is an hour old: the worker is not keeping up or not running.',
      );
      const apiMetric = (metricName: string, statistic = 'Sum') =>
        new cloudwatch.Metric({ namespace: 'AWS/AppSync', metricName, dimensionsMap: { GraphQLAPIId: props.apiId }, period: fiveMinutes, statistic });
      alarm('Api5xx', apiMetric('5XXError'), 5, 'AppSync: 5 or more server errors (5XX) in 5 minutes.');
      const custom = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { [METRIC_DIMENSION_STAGE]: props.stage },
          period: fiveMinutes,
          statistic: 'Sum',
        });
      alarm('SyncJobFailed', custom(METRIC.SyncJobFailed), 1, 'A sync job failed (metric AnimeLog/SyncJobFailed).');
      alarm(
        'MalBlocked',
        custom(METRIC.MalBlocked),
        1,
        'MAL is blocking our requests (metric AnimeLog/MalBlocked: its "blocked" page or a 403 storm); affected jobs pause. See docs/deploy.md (fixed egress address).',
      );
      alarm(
        'MalTokenRefreshFailed',
        custom(METRIC.MalTokenRefreshFailed),
        3,
        'MAL token refreshes failing (3+ in 5 minutes; one-offs are users revoking access). Check MAL status and the client secret.',
      );

      const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.name('overview') });
      dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
        new cloudwatch.GraphWidget({ title: 'API requests', left: [apiMetric('Requests')], width: 8 }),
        new cloudwatch.GraphWidget({ title: 'API errors', left: [apiMetric('4XXError'), apiMetric('5XXError')], width: 8 }),
        new cloudwatch.GraphWidget({ title: 'API latency p90 (ms)', left: [apiMetric('Latency', 'p90')], width: 8 }),
        new cloudwatch.GraphWidget({
          title: 'Lambda invocations',
          left: [...props.functions].map(([id, fn]) => fn.metricInvocations({ period: fiveMinutes, label: id })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Lambda errors / throttles',
          left: [...props.functions].map(([id, fn]) => fn.metricErrors({ period: fiveMinutes, label: `${id} errors` })),
          right: [...props.functions].map(([id, fn]) => fn.metricThrottles({ period: fiveMinutes, label: `${id} throttles` })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Lambda duration p90 (ms)',
          left: [...props.functions].map(([id, fn]) => fn.metricDuration({ period: fiveMinutes, statistic: 'p90', label: id })),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Sync queue',
          left: [
            props.syncQueue.metricApproximateNumberOfMessagesVisible({ label: 'queued' }),
            props.syncDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead letters' }),
          ],
          right: [props.syncQueue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)' })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Sync failures and MAL token refresh failures',
          left: [custom(METRIC.SyncJobFailed), custom(METRIC.MalTokenRefreshFailed)],
          width: 12,
        }),
      );
  }
}
