import { App } from 'cdktf';
import { AzurePaperCutStack } from './stack';

// This example on its own: `npx tsx apps/examples/azure-papercut/main.ts` writes cdktf.out/stacks/azure-papercut and azure-papercut-windows.
const app = new App();
new AzurePaperCutStack(app, 'azure-papercut');
new AzurePaperCutStack(app, 'azure-papercut-windows', { os: 'windows' });
app.synth();
