import { Testing, TerraformStack } from 'cdktf';
import { AzureFailoverCluster } from '../../lib/azure/azure-failover-cluster';
import { papercut } from '../../lib/spec';
import { FIXTURE_BINARY } from './helpers';

/**
 * The Terraform address of every resource AzureFailoverCluster creates (`<type>.<construct path + hash>`).
 * A renamed class or member must not move one: a changed address makes `cdktf deploy` destroy
 * and recreate the user's share or database. The snapshot was written by the code before the
 * Azure classes were renamed to their AWS twins' names; an intended address change needs a
 * migration note (and `terraform state mv`) before the snapshot is updated. (No AWS construct
 * id or class was renamed; the AWS example stack snapshot guards its addresses.)
 */
function addresses(build: (stack: TerraformStack) => void): string[] {
  const stack = new TerraformStack(Testing.app(), 'test');
  build(stack);
  const json = JSON.parse(Testing.synth(stack));
  return Object.entries(json.resource as Record<string, Record<string, unknown>>).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)).sort();
}

const VNET = '/subscriptions/0000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOir8ALo5YUnc5cx0I17r3wBPwqFxJIdv+k+kPlpj9z test@example';

describe('Terraform addresses of AzureFailoverCluster', () => {
  it('PaperCut on Linux with NFS and on Windows with SMB', () => {
    const build = (os: 'linux' | 'windows') =>
      addresses((s) => {
        new AzureFailoverCluster(s, 'cluster', {
          resourceGroupName: 'rg-test',
          location: 'westeurope',
          createResourceGroup: true,
          spec: { name: 'pc', profile: papercut({ os }), notificationEmails: ['ops@example.com'] },
          virtualNetworkId: VNET,
          appSubnetId: `${VNET}/subnets/app`,
          database: { delegatedSubnetId: `${VNET}/subnets/db` },
          privateEndpointSubnetId: `${VNET}/subnets/pe`,
          createFilePrivateDnsZone: true,
          ...(os === 'linux' ? { adminSshPublicKey: SSH_KEY } : {}),
          binaryPath: FIXTURE_BINARY,
          dmzAlias: { zoneName: 'corp.example.com', resourceGroupName: 'rg-dns', name: 'print' },
        });
      });
    expect({ linux: build('linux'), windows: build('windows') }).toMatchSnapshot();
  });
});
