import { ref, TerraformElement, Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { KeyVaultSecret } from '@cdktf/provider-azurerm/lib/key-vault-secret';

/** Terraform's block type for it: the ephemeral resource of the azurerm provider (4.12 and later). */
const TYPE = 'azurerm_key_vault_secret';

/**
 * The value a Key Vault secret holds, read as Terraform's ephemeral `azurerm_key_vault_secret`
 * (Terraform 1.10+): opened during each plan and apply, never kept in the plan or the state, and
 * usable only in write-only arguments. cdktf 0.21 has no class for ephemeral resources, so this
 * element writes the block itself (JSON synth, the default; `synth --hcl` does not render it).
 * It reads the secret's own `version`: unknown while the secret is created or given a new
 * value, so Terraform reads it only after that write, in the same apply.
 */
export class KeyVaultSecretValue extends TerraformElement {
  constructor(
    scope: Construct,
    id: string,
    private readonly secret: KeyVaultSecret,
  ) {
    super(scope, id, `ephemeral.${TYPE}`);
  }

  /** `ephemeral.azurerm_key_vault_secret.<id>.value`, for a write-only argument. */
  get value(): string {
    return Token.asString(ref(`ephemeral.${TYPE}.${this.friendlyUniqueId}.value`, this.cdktfStack));
  }

  /** The `ephemeral` block, merged into the stack's JSON by cdktf. */
  toTerraform(): unknown {
    return {
      ephemeral: {
        [TYPE]: {
          [this.friendlyUniqueId]: { name: this.secret.name, key_vault_id: this.secret.keyVaultId, version: this.secret.version },
        },
      },
    };
  }
}
