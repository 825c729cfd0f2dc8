// Client portal groups (policies/client_portal): per portal, registered clients, client groups
// with one default, and portal permissions granted to groups; ungrouped clients fall into the
// default group.
import type { Block, BlockModel } from '../block-dataset.js';
import type { Random } from '../random.js';
import { namespaced } from '../relationship-writer.js';

const NS = 'client_portal';
const CLIENTS = 800;
const GROUPS = 12;
const PERMISSIONS = 15;

function buildPortal(random: Random, index: number): Block {
  const { obj, rel } = namespaced(NS);
  const portalId = `p${index}`;
  const portal = obj('portal', portalId);
  const out: string[] = [];
  const groupIds = Array.from({ length: GROUPS }, (_, g) => `${portalId}.g${g}`);
  const defaultGroup = random.int(GROUPS);
  const members = groupIds.map(() => new Set<number>());
  const grouped = new Set<number>();

  for (const g of groupIds) out.push(rel(portal, 'group', obj('client_group', g)));
  out.push(rel(obj('client_group', groupIds[defaultGroup]!), 'default_for', portal));
  for (let c = 0; c < CLIENTS; c++) {
    const client = obj('client', `${portalId}.c${c}`);
    out.push(rel(portal, 'client', client));
    const roll = random.next();
    const groupCount = roll < 0.25 ? 0 : roll < 0.8 ? 1 : 2;
    for (const g of random.sample(
      Array.from({ length: GROUPS }, (_, k) => k),
      groupCount,
    )) {
      members[g]!.add(c);
      grouped.add(c);
      out.push(rel(obj('client_group', groupIds[g]!), 'member', client));
    }
  }
  const grants = Array.from({ length: PERMISSIONS }, (_, p) => {
    const to = random.sample(
      Array.from({ length: GROUPS }, (_, k) => k),
      random.between(0, 4),
    );
    for (const g of to)
      out.push(
        rel(
          obj('portal_permission', `${portalId}.perm${p}`),
          'granted_to',
          obj('client_group', groupIds[g]!),
        ),
      );
    return to;
  });

  return {
    relationships: out,
    question(r) {
      const p = r.int(PERMISSIONS);
      const c = r.int(CLIENTS);
      const expected = grants[p]!.some((g) => members[g]!.has(c) || (g === defaultGroup && !grouped.has(c)));
      return {
        resourceType: `${NS}/portal_permission`,
        resourceId: `${portalId}.perm${p}`,
        permission: 'use',
        subjectType: `${NS}/client`,
        subjectId: `${portalId}.c${c}`,
        expected,
      };
    },
  };
}

export const clientPortal: BlockModel = {
  name: 'client-portal',
  namespace: NS,
  policyDir: 'client_portal',
  relationshipsPerBlock: 1_650,
  buildBlock: buildPortal,
};
