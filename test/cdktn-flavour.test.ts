/**
 * The CDK Terrain flavour is generated from the compiled cdktf flavour (scripts/build-cdktn.ts):
 * exactly the modules that reach cdktf are copied with cdktn names, everything else is shared.
 * And the Terraform target the constructs declare reaches cdktn's validation as context.
 * (test/consumer/consumer.test.ts installs and synthesizes both flavours from the tarball;
 * this file runs without a build, with the unit tests.)
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { requireWriteOnlyArguments } from '../lib/synth/terraform-version';
import { cdktnFlavour, cdktnSpecifier } from '../scripts/build-cdktn';

describe('cdktnSpecifier', () => {
  it('renames cdktf and its providers, deep paths included, and leaves other packages alone', () => {
    expect(cdktnSpecifier('cdktf')).toBe('cdktn');
    expect(cdktnSpecifier('cdktf/lib/testing')).toBe('cdktn/lib/testing');
    expect(cdktnSpecifier('@cdktf/provider-aws/lib/lb')).toBe('@cdktn/provider-aws/lib/lb');
    expect(cdktnSpecifier('@cdktf/provider-azurerm/lib/provider')).toBe('@cdktn/provider-azurerm/lib/provider');
    expect(cdktnSpecifier('constructs')).toBeUndefined();
    expect(cdktnSpecifier('cdktfx')).toBeUndefined();
    expect(cdktnSpecifier('./cdktf')).toBeUndefined();
  });

  it('refuses a cdktf package it has no counterpart for, naming it', () => {
    expect(() => cdktnSpecifier('@cdktf/hcl2json')).toThrow('@cdktf/hcl2json: no CDK Terrain counterpart');
    expect(() => cdktnSpecifier('cdktf-cli/lib')).toThrow('cdktf-cli/lib: no CDK Terrain counterpart');
  });
});

describe('cdktnFlavour', () => {
  // a compiled tree as tsc writes it: CommonJS require() in .js, import/import("…") in .d.ts
  const tree = new Map<string, string>([
    ['aws/index.js', 'const c = require("./cluster");\n__exportStar(require("./support"), exports);\n//# sourceMappingURL=index.js.map'],
    ['aws/index.d.ts', "export * from './cluster';\nexport * from './support';\n"],
    ['aws/cluster.js', 'const cdktf_1 = require("cdktf");\nconst lb_1 = require("@cdktf/provider-aws/lib/lb");\nconst spec_1 = require("../spec");\nconst p = require("../core/problems");\nconst v = require("../core/version");\n'],
    ['aws/cluster.d.ts', "import { Construct } from 'constructs';\nimport type { Spec } from '../spec/spec';\nexport declare class Cluster extends Construct {\n  readonly lb: import(\"@cdktf/provider-aws/lib/lb\").Lb;\n  readonly spec: Spec;\n}\n"],
    // reaches cdktf through types only: tsc drops the import from the .js, the .d.ts keeps it
    ['aws/support.js', 'exports.x = 1;\n'],
    ['aws/support.d.ts', "import type { Cluster } from './cluster';\nexport declare const x: number;\nexport type C = Cluster;\n"],
    ['core/version.js', 'const cdktf_1 = require("cdktf");\n'],
    ['core/version.d.ts', "import { TerraformStack } from 'cdktf';\nexport declare const s: TerraformStack;\n"],
    ['core/problems.js', 'const constructs_1 = require("constructs");\nconst fs = require("fs");\n'],
    ['core/problems.d.ts', "import { Construct } from 'constructs';\nexport declare function f(c: Construct): void;\n"],
    ['spec/index.js', '__exportStar(require("./spec"), exports);\n'],
    ['spec/index.d.ts', "export * from './spec';\n"],
    ['spec/spec.js', 'const zod_1 = require("zod");\n'],
    ['spec/spec.d.ts', 'export interface Spec { name: string }\n'],
    ['guard/cli.js', 'require("../spec");\n'],
  ]);

  it('copies exactly the modules that reach cdktf (through JavaScript or declarations) and shares the rest', () => {
    // when
    const out = cdktnFlavour(tree, '../lib');
    // then
    expect([...out.keys()].sort()).toEqual([
      'aws/cluster.d.ts',
      'aws/cluster.js',
      'aws/index.d.ts',
      'aws/index.js',
      'aws/support.d.ts',
      'aws/support.js',
      'core/version.d.ts',
      'core/version.js',
    ]);
  });

  it('renames the packages, keeps relative imports of copied modules, and points the shared ones at the compiled tree', () => {
    // when
    const out = cdktnFlavour(tree, '../lib');
    // then
    expect(out.get('aws/cluster.js')).toBe(
      'const cdktf_1 = require("cdktn");\nconst lb_1 = require("@cdktn/provider-aws/lib/lb");\nconst spec_1 = require("../../lib/spec");\nconst p = require("../../lib/core/problems");\nconst v = require("../core/version");\n',
    );
    expect(out.get('aws/cluster.d.ts')).toContain("import type { Spec } from '../../lib/spec/spec';");
    expect(out.get('aws/cluster.d.ts')).toContain('import("@cdktn/provider-aws/lib/lb").Lb');
    expect(out.get('aws/cluster.d.ts')).toContain("from 'constructs'");
    expect(out.get('aws/index.js')).toBe('const c = require("./cluster");\n__exportStar(require("./support"), exports);\n');
    expect(out.get('core/version.d.ts')).toBe("import { TerraformStack } from 'cdktn';\nexport declare const s: TerraformStack;\n");
  });

  it('fails on a cdktf package without a counterpart, naming it', () => {
    const bad = new Map([...tree, ['aws/hcl.js', 'require("@cdktf/hcl2json");\n']]);
    expect(() => cdktnFlavour(bad, '../lib')).toThrow('@cdktf/hcl2json');
  });
});

describe('the Terraform target the constructs declare', () => {
  const constructs = (stack: TerraformStack) => {
    const a = new Construct(stack, 'a');
    requireWriteOnlyArguments(a);
    const nested = new Construct(a, 'nested');
    requireWriteOnlyArguments(nested);
    return { a, nested };
  };

  it('is cdktn targetVersions context (>= 1.11 for Terraform and OpenTofu) on the construct, beside required_version on its stack', () => {
    // given
    const stack = new TerraformStack(Testing.app(), 'stack');
    // when
    const { a, nested } = constructs(stack);
    // then
    const target = { terraform: '>=1.11.0', opentofu: '>=1.11.0' };
    expect(a.node.tryGetContext('targetVersions')).toEqual(target);
    expect(nested.node.tryGetContext('targetVersions')).toEqual(target);
    expect(stack.node.tryGetContext('targetVersions')).toBeUndefined();
    expect(JSON.parse(Testing.synth(stack)).terraform.required_version).toBe('>= 1.11.0');
  });

  it("leaves the project's own targetVersions as they are (cdktn then checks them)", () => {
    // given
    const declared = { terraform: '>=1.12.0' };
    const stack = new TerraformStack(new App({ context: { targetVersions: declared } }), 'stack');
    // when
    const { a } = constructs(stack);
    // then
    expect(a.node.tryGetContext('targetVersions')).toEqual(declared);
  });
});
