import { App } from 'cdktf';
import { PaperCutSpecStack } from './stack';

// This example on its own: `npx tsx apps/examples/papercut-spec/main.ts` writes cdktf.out/stacks/papercut-spec.
const app = new App();
new PaperCutSpecStack(app, 'papercut-spec');
app.synth();
