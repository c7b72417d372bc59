import { App } from 'cdktf';
import { PaperCutSpecStack } from './examples/papercut-spec';

/** The example stacks users copy; `npx cdktf synth` writes each to cdktf.out/stacks/<name>. */
const app = new App();
new PaperCutSpecStack(app, 'papercut-spec');
app.synth();
