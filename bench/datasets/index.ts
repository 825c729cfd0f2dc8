// The registry of benchmark datasets by name: the group-visibility workload of the engine
// issue and one generator per seed system under policies/.
import { blockDataset } from './block-dataset.js';
import type { Dataset, DatasetOptions } from './dataset.js';
import { carrierPanel } from './seed-systems/carrier-panel.js';
import { clientPortal } from './seed-systems/client-portal.js';
import { helpdesk } from './seed-systems/helpdesk.js';
import { salesCrm } from './seed-systems/sales-crm.js';
import { teamCrm } from './seed-systems/team-crm.js';

const SEED_SYSTEMS = [clientPortal, helpdesk, carrierPanel, salesCrm, teamCrm];

export const DATASET_NAMES = ['group-visibility', ...SEED_SYSTEMS.map((m) => m.name)] as const;

export async function createDataset(name: string, options: DatasetOptions): Promise<Dataset> {
  if (name === 'group-visibility') {
    const { groupVisibilityDataset } = await import('./group-visibility-adapter.js');
    return groupVisibilityDataset(options);
  }
  const model = SEED_SYSTEMS.find((m) => m.name === name);
  if (model === undefined) {
    throw new Error(`unknown dataset '${name}': choose one of ${DATASET_NAMES.join(', ')}`);
  }
  return blockDataset(model, options);
}
