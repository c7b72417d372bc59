import { type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { KeyVaultSecret } from '@cdktf/provider-azurerm/lib/key-vault-secret';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import type { Problem } from '../problems/problems';
import type { ClusterSpec } from '../spec/cluster-spec';
import { clusterTags } from '../spec/tags';
import { isUnresolved } from '../contracts/tokens';
import { requireWriteOnlyArguments } from '../synth/terraform-version';
import { keyVaultSecretReference } from '../contracts/secret-reference';

/** Properties of an {@link AzureThinPrintClientKeys}. */
export interface AzureThinPrintClientKeysProps {
  /** The parsed cluster spec (name, tags). */
  readonly spec: ClusterSpec;
  /** The RBAC key vault that holds the secret. */
  readonly keyVaultId: string;
  /** `{"clients":[{"id":"66","key":"666"}]}` from a sensitive variable; write-only, never in the state. */
  readonly value: string;
  /**
   * Bump to write a changed value (write-only attributes are compared by version).
   * @default 1
   */
  readonly valueVersion?: number;
  /** The nodes' identity: may read exactly this secret. */
  readonly readerPrincipalId: string;
  /**
   * What must exist before the secret is written (the deployer's data-plane role).
   * @default []
   */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * The ThinPrint client IDs and authentication keys in Key Vault. Every node reads the secret at
 * boot and runs `tpconnect -add id:key` for each client, so whichever node the guard makes
 * active knows every client.
 */
export class AzureThinPrintClientKeys extends Construct {
  /** The Key Vault secret holding the client IDs and keys (write-only value). */
  public readonly secret: KeyVaultSecret;
  /** The nodes' Key Vault Secrets User grant on the secret: boot after it. */
  public readonly readerRoleAssignment: RoleAssignment;
  /** The Key Vault reference the boot script reads. */
  public readonly secretRef: string;

  constructor(scope: Construct, id: string, props: AzureThinPrintClientKeysProps) {
    super(scope, id);
    // passwords and keys go through write-only arguments (`*_wo`): Terraform ≥ 1.11
    requireWriteOnlyArguments(this);
    this.secret = new KeyVaultSecret(this, 'secret', {
      name: `${props.spec.name}-thinprint-clients`,
      keyVaultId: props.keyVaultId,
      valueWo: props.value,
      valueWoVersion: props.valueVersion ?? 1,
      contentType: 'ThinPrint client IDs and authentication keys, {"clients":[{"id":…,"key":…}]}',
      tags: clusterTags(props.spec),
      dependsOn: [...(props.dependsOn ?? [])],
    });
    this.readerRoleAssignment = new RoleAssignment(this, 'reader', {
      scope: this.secret.resourceVersionlessId,
      roleDefinitionName: 'Key Vault Secrets User',
      principalId: props.readerPrincipalId,
    });
    this.secretRef = keyVaultSecretReference(this.secret.versionlessId);
  }
}

/**
 * ThinPrint's client keys: a reference to a sensitive (ephemeral) Terraform variable, written to
 * a write-only attribute, never a literal, so they sit on the cluster; the profile is
 * cloud-neutral literal data and holds the plain settings (`thinprint({ nodeSubnetCidrs })`).
 */
export interface AzureThinPrintProps {
  /**
   * The client IDs and keys, `{"clients":[{"id":"66","key":"666"}]}`, from a sensitive variable.
   * @default - none (no client is added)
   */
  readonly clientKeysValue?: string;
  /**
   * Bump when `clientKeysValue` changes (the secret is write-only).
   * @default 1
   */
  readonly clientKeysVersion?: number;
}

/** ThinPrint on Azure: the cluster mode that can work, and client keys that never sit in code. */
export function azureThinPrintProblems(spec: ClusterSpec, props: AzureThinPrintProps | undefined): Problem[] {
  const problems: Problem[] = [];
  if (spec.profile.app === 'thinprint' && spec.profile.clusterMode === 'dns-multicast') {
    problems.push({
      path: 'spec.profile.clusterMode',
      message: 'Azure virtual networks carry no multicast, so the ThinPrint nodes cannot form the vendor\'s cluster; use "single-active" (AzureFailoverCluster)',
    });
  }
  if (props === undefined) return problems;
  if (spec.profile.app !== 'thinprint') return [...problems, { path: 'thinprint', message: `only for the ThinPrint profile (this is ${spec.profile.displayName})` }];
  const clientKeysValue = props.clientKeysValue;
  if (clientKeysValue === undefined) return problems;
  const path = 'thinprint.clientKeysValue';
  if (!isUnresolved(clientKeysValue)) problems.push({ path, message: 'must come from a sensitive Terraform variable or another secret, never a literal in code' });
  else if (spec.database.existing) problems.push({ path, message: 'needs the cluster\'s own Key Vault, which an existing database (spec.database.existing) does not create' });
  return problems;
}
