import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { papercut, parseClusterSpec } from 'failover-constructs/spec';

/**
 * The resolved PaperCut MF spec as a stack output: shows every default the constructs will
 * use, with no cloud provider involved.
 */
export class PaperCutSpecStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const spec = parseClusterSpec({ name: 'papercut', profile: papercut({ edition: 'mf', os: 'linux' }) });
    new TerraformOutput(this, 'resolved_spec', { value: JSON.stringify(spec), description: 'The resolved ClusterSpec' });
  }
}
