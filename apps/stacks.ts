import type { App, TerraformStack } from 'cdktf';
import { AwsPaperCutStack } from './examples/aws-papercut/stack';
import { AwsThinPrintDnsStack } from './examples/aws-thinprint-dns/stack';
import { AzurePaperCutStack } from './examples/azure-papercut/stack';
import { AzureThinPrintStack } from './examples/azure-thinprint/stack';
import { PaperCutSpecStack } from './examples/papercut-spec/stack';

/**
 * Every example stack by name. `apps/main.ts` synthesizes all of them, or only those named in
 * `FC_STACKS` (comma-separated) — the synth benchmark times one stack per process that way.
 */
export const EXAMPLE_STACKS: Record<string, (app: App, name: string) => TerraformStack> = {
  'papercut-spec': (app, name) => new PaperCutSpecStack(app, name),
  'aws-papercut': (app, name) => new AwsPaperCutStack(app, name),
  'aws-thinprint-dns': (app, name) => new AwsThinPrintDnsStack(app, name),
  'azure-papercut': (app, name) => new AzurePaperCutStack(app, name),
  'azure-papercut-windows': (app, name) => new AzurePaperCutStack(app, name, { os: 'windows' }),
  'azure-thinprint': (app, name) => new AzureThinPrintStack(app, name),
};
