import { App } from 'cdktf';
import { AzureThinPrintStack } from './stack';

// This example on its own: `npx tsx apps/examples/azure-thinprint/main.ts` writes cdktf.out/stacks/azure-thinprint.
const app = new App();
new AzureThinPrintStack(app, 'azure-thinprint');
app.synth();
