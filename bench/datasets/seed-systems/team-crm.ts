// Team CRM (policies/team_crm): per account, an owner, administrators, registered members with
// entitlements, invited users who have not registered (and so get nothing), groups, and
// contacts visible to everyone, private to their owner, or to 1-3 groups.
import type { Block, BlockModel } from '../block-dataset.js';
import type { Random } from '../random.js';
import { namespaced } from '../relationship-writer.js';

const NS = 'team_crm';
// User 0 owns the account; 1-3 are admins; 4-53 registered members; 54-59 invited only.
const ADMINS = [1, 2, 3];
const REGISTERED = 54;
const USERS = 60;
const GROUPS = 8;
const CONTACTS = 400;
const ENTITLEMENTS = ['can_edit', 'can_delete', 'can_export'] as const;
const ACTIONS = ['view', 'edit', 'delete', 'export'] as const;
type Action = (typeof ACTIONS)[number];
const NEEDS: Record<Exclude<Action, 'view'>, (typeof ENTITLEMENTS)[number]> = {
  edit: 'can_edit',
  delete: 'can_delete',
  export: 'can_export',
};

interface ContactModel {
  readonly owner: number;
  readonly everyone: boolean;
  readonly groups: readonly number[];
}

function buildAccount(random: Random, index: number): Block {
  const { obj, rel } = namespaced(NS);
  const a = `a${index}`;
  const account = obj('account', a);
  const user = (u: number): string => obj('user', `${a}.u${u}`);
  const out: string[] = [rel(account, 'owner', user(0))];
  const entitled = new Map<string, Set<number>>(ENTITLEMENTS.map((e) => [e, new Set()]));
  const admins = new Set<number>();

  for (let u = 1; u < USERS; u++) {
    out.push(rel(account, u < REGISTERED ? 'member' : 'invited', user(u)));
    // Invited users may already carry flags: they must still get nothing until they register.
    if (ADMINS.includes(u) || (u >= REGISTERED && random.chance(0.3))) {
      admins.add(u);
      out.push(rel(account, 'admin', user(u)));
    }
    for (const e of ENTITLEMENTS) {
      if (random.chance(0.4)) {
        entitled.get(e)!.add(u);
        out.push(rel(account, e, user(u)));
      }
    }
  }
  const membersOf = Array.from({ length: GROUPS }, (_, g) => {
    out.push(rel(obj('group', `${a}.g${g}`), 'account', account));
    return new Set<number>();
  });
  for (let u = 1; u < USERS; u++) {
    for (const g of random.sample(
      Array.from({ length: GROUPS }, (_, k) => k),
      random.between(0, 2),
    )) {
      membersOf[g]!.add(u);
      out.push(rel(obj('group', `${a}.g${g}`), 'member', user(u)));
    }
  }
  const contacts: ContactModel[] = Array.from({ length: CONTACTS }, (_, k) => {
    const contact = obj('contact', `${a}.k${k}`);
    out.push(rel(contact, 'account', account));
    // Owners that were removed leave no owner edge (-1); the contact stays.
    const owner = random.chance(0.05) ? -1 : random.int(REGISTERED);
    if (owner >= 0) out.push(rel(contact, 'owner', user(owner)));
    const roll = random.next();
    const everyone = roll < 0.3;
    const groups =
      roll < 0.6
        ? []
        : random.sample(
            Array.from({ length: GROUPS }, (_, g) => g),
            random.between(1, 3),
          );
    if (everyone) out.push(rel(contact, 'viewer', `${NS}/user:*`));
    for (const g of groups) out.push(rel(contact, 'viewer', `${obj('group', `${a}.g${g}`)}#member`));
    return { owner, everyone, groups };
  });

  const active = (u: number): boolean => u === 0 || u < REGISTERED;
  const administer = (u: number): boolean => (u === 0 || admins.has(u)) && active(u);

  return {
    relationships: out,
    question(r) {
      const k = r.int(CONTACTS);
      const u = r.int(USERS);
      const action = r.pick(ACTIONS);
      const c = contacts[k]!;
      const view =
        active(u) &&
        (c.owner === u || c.everyone || c.groups.some((g) => membersOf[g]!.has(u)) || administer(u));
      const expected =
        action === 'view'
          ? view
          : view && (administer(u) || (entitled.get(NEEDS[action])!.has(u) && active(u)));
      return {
        resourceType: `${NS}/contact`,
        resourceId: `${a}.k${k}`,
        permission: action,
        subjectType: `${NS}/user`,
        subjectId: `${a}.u${u}`,
        expected,
      };
    },
  };
}

export const teamCrm: BlockModel = {
  name: 'team-crm',
  namespace: NS,
  policyDir: 'team_crm',
  relationshipsPerBlock: 1_450,
  buildBlock: buildAccount,
};
