import { App } from 'cdktf';
import { AwsThinPrintDnsStack } from './stack';

// This example on its own: `npx tsx apps/examples/aws-thinprint-dns/main.ts` writes cdktf.out/stacks/aws-thinprint-dns.
const app = new App();
new AwsThinPrintDnsStack(app, 'aws-thinprint-dns');
app.synth();
