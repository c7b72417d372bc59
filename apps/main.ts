import { App } from 'cdktf';
import { EXAMPLE_STACKS } from './stacks';

/** The example stacks users copy; `npm run synth` writes each to cdktf.out/stacks/<name>. */
const wanted = process.env.FC_STACKS?.split(',').map((s) => s.trim()).filter(Boolean) ?? Object.keys(EXAMPLE_STACKS);
const unknown = wanted.filter((name) => !(name in EXAMPLE_STACKS));
if (unknown.length > 0) {
  console.error(`FC_STACKS: unknown stack(s) ${unknown.join(', ')}; known: ${Object.keys(EXAMPLE_STACKS).join(', ')}`);
  process.exit(2);
}
const app = new App();
for (const name of wanted) EXAMPLE_STACKS[name](app, name);
app.synth();
