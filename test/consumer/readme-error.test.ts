/**
 * The error docs/using-the-package.md shows is the one the constructs throw for the input it
 * names (the README's stack, with a bad vpcId and a 4 s health check).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { AwsFailoverCluster } from '../../lib/aws';
import { papercut } from '../../lib/spec';
import { readmeFiles } from './consumer-project';

it("the docs' example error is the real one", () => {
  // given
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'using-the-package.md'), 'utf8');
  const shown = /```text\n(print\/papercut is invalid:\n[\s\S]*?)```/.exec(page)?.[1];
  const stack = new TerraformStack(new App(), 'print');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  // the README's stack, with the two mistakes the README names
  const props = {
    spec: { name: 'papercut', profile: papercut({ edition: 'mf', os: 'linux' }), notificationEmails: ['print-admins@example.com'], healthCheck: { intervalSecs: 4 } },
    vpcId: 'vpc-123',
    vpcCidr: '10.0.0.0/16',
    subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  };
  expect(readmeFiles().files['print-stack.ts']).toContain(`vpcCidr: '${props.vpcCidr}',\n      subnetIds: ['${props.subnetIds.join("', '")}'],`);
  // when / then
  expect(shown).toBeDefined();
  expect(() => new AwsFailoverCluster(stack, 'papercut', props)).toThrow(shown!.trimEnd());
  expect(stack.node.findAll().filter((c) => c.node.path.startsWith('print/papercut/'))).toEqual([]);
});
