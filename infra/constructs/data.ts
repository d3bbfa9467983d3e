/**
 * The stack's data: the DynamoDB tables of contract/tables.ts, the KMS key of the MAL token envelopes,
 * the MAL client secret and the sync queue with its dead-letter queue.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PROJECT, TABLES, physicalTableName, type AttributeType, type TableId } from '#contract/tables';
import { Section, acknowledge, pascal } from './section';

/** Deliveries of a sync message before it goes to the dead-letter queue. */
export const SYNC_MAX_RECEIVE_COUNT = 5;

const ATTRIBUTE_TYPE: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
};

export interface DataStoresProps {
  stage: string;
  name(suffix: string): string;
  /** Retain data and protect tables from deletion (prod). */
  retainData: boolean;
  removalPolicy: RemovalPolicy;
  /** The sync worker's timeout: the queue's visibility timeout follows it. */
  workerTimeoutSeconds: number;
}

export class DataStores extends Section {
  readonly tables = new Map<TableId, dynamodb.Table>();
  readonly tokenKey: kms.Key;
  readonly malSecret: secretsmanager.Secret;
  readonly syncQueue: sqs.Queue;
  readonly syncDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DataStoresProps) {
    super(scope, id);
      // --- DynamoDB -------------------------------------------------------------------------------
      for (const def of TABLES) {
        const table = new dynamodb.Table(this, `${pascal(def.id)}Table`, {
          tableName: physicalTableName(def.id, props.stage),
          partitionKey: { name: def.partitionKey.name, type: ATTRIBUTE_TYPE[def.partitionKey.type] },
          sortKey: def.sortKey ? { name: def.sortKey.name, type: ATTRIBUTE_TYPE[def.sortKey.type] } : undefined,
          // On demand: traffic is spiky (a sync burst per user, idle otherwise) and small.
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          // AWS-managed key: no key policy to maintain; MAL tokens are in addition envelope-encrypted by
          // the application with the token key, which is the access control that matters for them.
          encryption: dynamodb.TableEncryption.AWS_MANAGED,
          timeToLiveAttribute: def.timeToLiveAttribute,
          deletionProtection: props.retainData,
          removalPolicy: props.removalPolicy,
        });
        for (const gsi of def.globalSecondaryIndexes ?? []) {
          table.addGlobalSecondaryIndex({
            indexName: gsi.name,
            partitionKey: { name: gsi.partitionKey.name, type: ATTRIBUTE_TYPE[gsi.partitionKey.type] },
            sortKey: gsi.sortKey ? { name: gsi.sortKey.name, type: ATTRIBUTE_TYPE[gsi.sortKey.type] } : undefined,
            projectionType: dynamodb.ProjectionType.ALL,
          });
        }
        this.tables.set(def.id, table);
      }

      // --- Keys, secret, queues -------------------------------------------------------------------
      this.tokenKey = new kms.Key(this, 'TokenKey', {
        alias: `alias/${props.name('tokens')}`,
        description: 'AnimeLog: envelope encryption of users’ MAL tokens (data keys via GenerateDataKey).',
        enableKeyRotation: true,
        // Losing the key loses every stored MAL token (users must sign in again): keep it in prod.
        removalPolicy: props.removalPolicy,
        pendingWindow: Duration.days(props.retainData ? 30 : 7),
      });

      this.malSecret = new secretsmanager.Secret(this, 'MalClientSecret', {
        secretName: `${PROJECT}/${props.stage}/mal-client`,
        description: 'MAL API client credentials: JSON {clientId, clientSecret, redirectUri}. Set with put-secret-value (docs/deploy.md).',
        // A placeholder: CloudFormation never sees the real credentials. The operator replaces the value
        // after the first deploy; later deploys leave it alone (the template does not change).
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ clientId: 'SET_ME', redirectUri: 'SET_ME' }),
          generateStringKey: 'clientSecret',
          excludePunctuation: true,
        },
        removalPolicy: props.removalPolicy,
      });
      acknowledge(
        this.malSecret,
        'AwsSolutions-SMG4',
        'MAL client credentials are issued by hand on MAL’s API settings page; MAL has no API to rotate them, so rotation is manual (docs/deploy.md).',
      );

      this.syncDeadLetterQueue = new sqs.Queue(this, 'SyncDeadLetterQueue', {
        queueName: props.name('sync-dlq'),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
          this.syncQueue = new sqs.Queue(this, 'SyncQueue', {
        queueName: props.name('sync'),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // AWS guidance for Lambda consumers: visibility ≥ 6 × function timeout, so a message is not
        // redelivered while a worker still runs on it.
        visibilityTimeout: Duration.seconds(Math.min(43_200, Math.max(30, 6 * props.workerTimeoutSeconds))),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: this.syncDeadLetterQueue, maxReceiveCount: SYNC_MAX_RECEIVE_COUNT },
      });
  }
}
