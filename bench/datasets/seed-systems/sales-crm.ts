// Sales CRM client groups (policies/sales_crm): per CRM, administrators, client groups
// ("bolsas") assigned to standard users, and clients in at most one group; standard users see
// the clients of their groups, administrators see every client.
import type { Block, BlockModel } from '../block-dataset.js';
import type { Random } from '../random.js';
import { namespaced } from '../relationship-writer.js';

const NS = 'sales_crm';
const USERS = 50;
const ADMINS = 3;
const GROUPS = 20;
const CLIENTS = 1_000;

function buildCrm(random: Random, index: number): Block {
  const { obj, rel } = namespaced(NS);
  const c = `c${index}`;
  const crm = obj('crm', c);
  const out: string[] = [];
  // Users 0..ADMINS-1 are administrators; the rest are standard users.
  for (let u = 0; u < ADMINS; u++) out.push(rel(crm, 'admin', obj('user', `${c}.u${u}`)));
  const assignees = Array.from({ length: GROUPS }, () => new Set<number>());
  for (let g = 0; g < GROUPS; g++) out.push(rel(obj('client_group', `${c}.g${g}`), 'crm', crm));
  for (let u = ADMINS; u < USERS; u++) {
    for (const g of random.sample(
      Array.from({ length: GROUPS }, (_, k) => k),
      random.between(1, 3),
    )) {
      assignees[g]!.add(u);
      out.push(rel(obj('client_group', `${c}.g${g}`), 'assignee', obj('user', `${c}.u${u}`)));
    }
  }
  const groupOf = Array.from({ length: CLIENTS }, (_, k) => {
    const client = obj('client', `${c}.k${k}`);
    out.push(rel(client, 'crm', crm));
    // One client in ten is in no group yet: only administrators see it.
    const g = random.chance(0.9) ? random.int(GROUPS) : -1;
    if (g >= 0) out.push(rel(client, 'group', obj('client_group', `${c}.g${g}`)));
    return g;
  });

  return {
    relationships: out,
    question(r) {
      const k = r.int(CLIENTS);
      // Administrators are rare; ask about them often enough to exercise the rule.
      const u = r.chance(0.1) ? r.int(ADMINS) : r.between(ADMINS, USERS - 1);
      const g = groupOf[k]!;
      return {
        resourceType: `${NS}/client`,
        resourceId: `${c}.k${k}`,
        permission: 'view',
        subjectType: `${NS}/user`,
        subjectId: `${c}.u${u}`,
        expected: u < ADMINS || (g >= 0 && assignees[g]!.has(u)),
      };
    },
  };
}

export const salesCrm: BlockModel = {
  name: 'sales-crm',
  namespace: NS,
  policyDir: 'sales_crm',
  relationshipsPerBlock: 2_020,
  buildBlock: buildCrm,
};
