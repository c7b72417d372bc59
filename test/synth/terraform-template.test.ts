import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Fn, TerraformLocal, TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { escapeTemplateLiterals } from '../../lib/synth/terraform-template';

const SCRIPT_WITH = (ref: string) => `#!/bin/bash\necho "a \\"b\\"" \${HOME} \${x:-y} %{ if } $$ $\${z} '${ref}' \\n\n`;

describe('escapeTemplateLiterals', () => {
  it('escapes ${ and %{ outside cdktf token markers only', () => {
    expect(escapeTemplateLiterals('a ${B} %{c} ${TfToken[TOKEN.7]} $${d}')).toBe('a $${B} %%{c} ${TfToken[TOKEN.7]} $$${d}');
  });

  const terraform = (() => {
    try {
      execFileSync('terraform', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (terraform ? it : it.skip)('round-trips a bash script byte for byte through a real terraform apply (local values only)', () => {
    // given: a script with bash expansions, quotes, backslashes and one Terraform reference
    const stack = new TerraformStack(Testing.app(), 't');
    const ref = new TerraformLocal(stack, 'ref', 'resolved');
    const script = new TerraformLocal(stack, 'script', escapeTemplateLiterals(SCRIPT_WITH(ref.asString)));
    new TerraformOutput(stack, 'b64', { value: Fn.base64encode(script.asString) });
    const dir = mkdtempSync(join(tmpdir(), 'tf-template-'));
    try {
      writeFileSync(join(dir, 'main.tf.json'), Testing.synth(stack));

      // when
      const env = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' };
      execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'ignore' });
      execFileSync('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'ignore' });
      const b64 = execFileSync('terraform', ['output', '-raw', 'b64'], { cwd: dir, env }).toString();

      // then
      expect(Buffer.from(b64, 'base64').toString()).toBe(SCRIPT_WITH('resolved'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
