// Carrier control panel (policies/carrier_panel): per panel, groups with global CRUD flags or,
// once they have any granular grant, only their per-feature grants; users in 1-3 groups get
// the union of what each group grants on its own terms.
import type { Block, BlockModel } from '../block-dataset.js';
import type { Random } from '../random.js';
import { namespaced } from '../relationship-writer.js';

const NS = 'carrier_panel';
const GROUPS = 10;
const USERS = 100;
const FEATURES = 8;
const OPS = ['create', 'read', 'update', 'delete'] as const;

interface GroupModel {
  readonly granular: boolean;
  readonly global: ReadonlySet<string>;
  /** `feature:op` pairs. */
  readonly grants: ReadonlySet<string>;
}

function buildPanel(random: Random, index: number): Block {
  const { obj, rel } = namespaced(NS);
  const p = `p${index}`;
  const panel = obj('panel', p);
  const everyone = `${NS}/user:*`;
  const out: string[] = [];

  for (let f = 0; f < FEATURES; f++) out.push(rel(obj('feature', `${p}.f${f}`), 'panel', panel));
  const groups: GroupModel[] = Array.from({ length: GROUPS }, (_, g) => {
    const group = obj('group', `${p}.g${g}`);
    out.push(rel(panel, 'group', group));
    const granular = random.chance(0.4);
    // Granular groups keep some global flags too: the engine must nullify them.
    const global = new Set(OPS.filter(() => random.chance(granular ? 0.5 : 0.6)));
    for (const op of global) out.push(rel(group, `global_${op}`, everyone));
    const grants = new Set<string>();
    if (granular) {
      out.push(rel(group, 'granular_mode', everyone));
      const want = random.between(2, 8);
      while (grants.size < want) grants.add(`${random.int(FEATURES)}:${random.pick(OPS)}`);
      for (const grant of grants) {
        const [f, op] = grant.split(':') as [string, string];
        out.push(rel(obj('feature', `${p}.f${f}`), `granular_${op}`, `${group}#member`));
      }
    }
    return { granular, global, grants };
  });
  const groupsOf = Array.from({ length: USERS }, (_, u) => {
    const mine = random.sample(
      Array.from({ length: GROUPS }, (_, k) => k),
      random.between(1, 3),
    );
    for (const g of mine) out.push(rel(obj('group', `${p}.g${g}`), 'member', obj('user', `${p}.u${u}`)));
    return mine;
  });

  return {
    relationships: out,
    question(r) {
      const f = r.int(FEATURES);
      const u = r.int(USERS);
      const op = r.pick(OPS);
      const expected = groupsOf[u]!.some((g) => {
        const group = groups[g]!;
        return group.granular ? group.grants.has(`${f}:${op}`) : group.global.has(op);
      });
      return {
        resourceType: `${NS}/feature`,
        resourceId: `${p}.f${f}`,
        permission: op,
        subjectType: `${NS}/user`,
        subjectId: `${p}.u${u}`,
        expected,
      };
    },
  };
}

export const carrierPanel: BlockModel = {
  name: 'carrier-panel',
  namespace: NS,
  policyDir: 'carrier_panel',
  relationshipsPerBlock: 240,
  buildBlock: buildPanel,
};
