/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`). The stage comes from `-c stage=dev|staging|prod`
 * (default dev); everything else is derived in infra/stack.ts.
 */
import { createApp } from './stack';

createApp().app.synth();
