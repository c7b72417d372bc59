import { readFileSync } from 'fs';
import { join } from 'path';
import { Construct } from 'constructs';
import * as ts from 'typescript';
import * as aws from '../lib/aws';
import * as azure from '../lib/azure';

/**
 * AWS and Azure offer the same constructs under the same names (Aws<X> ↔ Azure<X>), the same
 * part-check functions, and clusters with the same members. Differences are listed here with
 * the reason; a new construct or member on one cloud only fails this test until its twin
 * exists or it is added to a list with its reason.
 */

/** Constructs one cloud has and the other has not, and why. */
const AWS_ONLY: Record<string, string> = {
  AwsMulticastDomain: 'Transit Gateway multicast for ThinPrint dns-multicast; Azure virtual networks carry no multicast',
  AwsNodeTemplate: 'the launch template, role and security group AwsAppServers and AwsDnsCluster share; an Azure scale set holds that itself',
};
const AZURE_ONLY: Record<string, string> = {
  AzureRoleAssignmentWait: 'Azure RBAC grants propagate for minutes after Terraform creates them; IAM policies on AWS are usable when the apply returns them',
};

/** Cluster members one cloud has and the other has not, and why. AWS ARNs and Azure resource ids are twins (`xArn` ↔ `xId`). */
const AWS_ONLY_MEMBERS: Record<string, string> = {
  dnsCluster: 'AwsFailoverCluster builds `dns` profiles (ThinPrint dns-multicast); on Azure there is no multicast, and AzureDnsCluster takes nodes the user builds',
  loadBalancerDnsName: 'an Azure internal load balancer has no DNS name (loadBalancerAddress is its frontend IP)',
  guardAssetBucketName: 'S3 bucket; Azure keeps the guard in a container (guardAssetContainerName)',
};
const AZURE_ONLY_MEMBERS: Record<string, string> = {
  resourceGroup: 'Azure resources live in a resource group the cluster may create; AWS has none',
  identity: 'the nodes\' user-assigned managed identity; on AWS the instance role lives in AwsAppServers.template',
  bootContext: 'the boot script input, AzureAppServers.bootContext; on AWS read AwsAppServers.bootContext',
  dmzAliasRecord: 'the DMZ A record of a single-active cluster; on AWS the DMZ alias is part of AwsDnsCluster (dns-multicast)',
  guardAssetContainerName: 'blob container; AWS keeps the guard in an S3 bucket (guardAssetBucketName)',
};

const isConstructClass = (value: unknown): value is typeof Construct => typeof value === 'function' && value.prototype instanceof Construct;

/** Exported construct classes by their own name (an alias has another class's name, so it is left out). */
function constructNames(module: Record<string, unknown>): string[] {
  return Object.entries(module)
    .filter(([name, value]) => isConstructClass(value) && value.name === name)
    .map(([name]) => name)
    .sort();
}

/** The source of a file of this package. */
const sourceOf = (file: string): ts.SourceFile => ts.createSourceFile(file, readFileSync(join(__dirname, '..', file), 'utf8'), ts.ScriptTarget.Latest, true);

/** The public members of an exported class, read from its source. */
function publicMembers(file: string, className: string): string[] {
  const source = sourceOf(file);
  const cls = source.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className);
  if (!cls) throw new Error(`no class ${className} in ${file}`);
  return cls.members
    .filter((m) => m.name && !ts.isConstructorDeclaration(m))
    .filter((m) => (ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0)
    .map((m) => m.name!.getText(source))
    .sort();
}

/** The properties an interface declares itself (not those it extends), read from its source. */
function ownProps(file: string, interfaceName: string): string[] {
  const source = sourceOf(file);
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === interfaceName);
  if (!decl) throw new Error(`no interface ${interfaceName} in ${file}`);
  return decl.members.map((m) => m.name!.getText(source)).sort();
}

/** The member names with ARNs written as ids, so `databaseArn` (AWS) and `databaseId` (Azure) are twins. */
const asIds = (names: readonly string[]): Set<string> => new Set(names.map((n) => n.replace(/Arn$/, 'Id')));

describe('AWS and Azure parity', () => {
  const awsConstructs = constructNames(aws);
  const azureConstructs = constructNames(azure);

  it('every Aws<X> construct has an Azure<X> twin, except the explained AWS-only ones', () => {
    const missing = awsConstructs.filter((n) => !azureConstructs.includes(n.replace(/^Aws/, 'Azure')) && !(n in AWS_ONLY));
    expect(missing).toEqual([]);
  });

  it('every Azure<X> construct has an Aws<X> twin, except the explained Azure-only ones', () => {
    const missing = azureConstructs.filter((n) => !awsConstructs.includes(n.replace(/^Azure/, 'Aws')) && !(n in AZURE_ONLY));
    expect(missing).toEqual([]);
  });

  it('the allow-lists name real constructs that really lack a twin (no stale entries)', () => {
    for (const n of Object.keys(AWS_ONLY)) expect([awsConstructs.includes(n), azureConstructs.includes(n.replace(/^Aws/, 'Azure'))]).toEqual([true, false]);
    for (const n of Object.keys(AZURE_ONLY)) expect([azureConstructs.includes(n), awsConstructs.includes(n.replace(/^Azure/, 'Aws'))]).toEqual([true, false]);
  });

  it('the part checks a cluster runs before it builds have the same names on both clouds', () => {
    for (const name of ['loadBalancerProblems', 'databaseProblems', 'sharedStorageProblems', 'guardAssetProblems', 'appServersProblems', 'alarmsProblems', 'dnsClusterProblems']) {
      expect([name, typeof (aws as Record<string, unknown>)[name], typeof (azure as Record<string, unknown>)[name]]).toEqual([name, 'function', 'function']);
    }
  });

  it('the app servers take the cluster\'s parts under the same names and build their boot context from them', () => {
    const awsProps = ownProps('lib/aws/aws-app-servers.ts', 'AwsAppServersProps');
    const azureProps = ownProps('lib/azure/azure-app-servers.ts', 'AzureAppServersProps');
    for (const part of ['spec', 'loadBalancer', 'database', 'storage', 'guardAsset', 'thinprintClientKeys', 'installCommands']) {
      expect([part, awsProps.includes(part), azureProps.includes(part)]).toEqual([part, true, true]);
    }
    for (const [file, cls] of [['lib/aws/aws-app-servers.ts', 'AwsAppServers'], ['lib/azure/azure-app-servers.ts', 'AzureAppServers']]) {
      expect([cls, publicMembers(file, cls).includes('bootContext')]).toEqual([cls, true]);
    }
    expect(azureProps).not.toContain('bootContext');
  });

  describe('AwsFailoverCluster and AzureFailoverCluster members', () => {
    const awsMembers = publicMembers('lib/aws/aws-failover-cluster.ts', 'AwsFailoverCluster');
    const azureMembers = publicMembers('lib/azure/azure-failover-cluster.ts', 'AzureFailoverCluster');

    it('include the parts under the same names', () => {
      for (const part of ['spec', 'loadBalancer', 'database', 'storage', 'guardAsset', 'appServers', 'alarms', 'thinprintClientKeys']) {
        expect([part, awsMembers.includes(part), azureMembers.includes(part)]).toEqual([part, true, true]);
      }
    });

    it('match, but for the explained one-cloud members (an AWS ARN and an Azure id are twins)', () => {
      const azureIds = asIds(azureMembers);
      const awsIds = asIds(awsMembers);
      expect(awsMembers.filter((m) => !azureIds.has(m.replace(/Arn$/, 'Id')) && !(m in AWS_ONLY_MEMBERS))).toEqual([]);
      expect(azureMembers.filter((m) => !awsIds.has(m) && !(m in AZURE_ONLY_MEMBERS))).toEqual([]);
    });

    it('the member allow-lists have no stale entries', () => {
      for (const m of Object.keys(AWS_ONLY_MEMBERS)) expect([m, awsMembers.includes(m), azureMembers.includes(m)]).toEqual([m, true, false]);
      for (const m of Object.keys(AZURE_ONLY_MEMBERS)) expect([m, azureMembers.includes(m), awsMembers.includes(m)]).toEqual([m, true, false]);
    });
  });
});
