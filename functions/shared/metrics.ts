/**
 * Custom metrics from a Lambda, as CloudWatch Embedded Metric Format records (names in contract/metrics.ts).
 */
import { METRICS_NAMESPACE, METRIC_DIMENSION_STAGE, type MetricName } from '#contract/metrics';
import { stage as configuredStage } from './config';

/** The CloudWatch Embedded Metric Format record for one count of `name` in `stage`. */
export function metricRecord(name: MetricName, stage: string, value = 1, timestamp = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [[METRIC_DIMENSION_STAGE]], Metrics: [{ Name: name, Unit: 'Count' }] },
      ],
    },
    [METRIC_DIMENSION_STAGE]: stage,
    [name]: value,
  });
}

/**
 * Emits a custom metric from a Lambda by logging an EMF record. Written straight to stdout, not through
 * console.log: Lambda's console prefixes lines (timestamp, request id), which would hide the JSON from
 * the EMF extraction. No IAM permission is needed (it is a log line).
 */
export function emitMetric(name: MetricName, value = 1, stage = configuredStage()): void {
  process.stdout.write(`${metricRecord(name, stage, value)}\n`);
}
