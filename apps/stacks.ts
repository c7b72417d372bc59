import type { App, TerraformStack } from 'cdktf';
import { PaperCutSpecStack } from './examples/papercut-spec';

/**
 * Every example stack by name. `apps/main.ts` synthesizes all of them, or only those named in
 * `FC_STACKS` (comma-separated) — the synth benchmark times one stack per process that way.
 */
export const EXAMPLE_STACKS: Record<string, (app: App, name: string) => TerraformStack> = {
  'papercut-spec': (app, name) => new PaperCutSpecStack(app, name),
};
