import { App } from 'cdktf';
import { AwsPaperCutStack } from './stack';

// This example on its own: `npx tsx apps/examples/aws-papercut/main.ts` writes cdktf.out/stacks/aws-papercut.
const app = new App();
new AwsPaperCutStack(app, 'aws-papercut');
app.synth();
