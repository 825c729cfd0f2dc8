// Helpdesk customers <-> groups (policies/helpdesk): per tenant, customers with their users,
// agent groups linked to customers as ro/rw/same_customer (one "always" group for everyone),
// queues owned by groups, and tickets with a queue, a customer and a requester.
import type { Block, BlockModel } from '../block-dataset.js';
import type { Random } from '../random.js';
import { namespaced } from '../relationship-writer.js';

const NS = 'helpdesk';
const CUSTOMERS = 40;
const USERS_PER_CUSTOMER = 3;
const GROUPS = 8;
const QUEUES_PER_GROUP = 2;
const TICKETS = 500;
const LINK_TYPES = ['ro', 'rw', 'same_customer'] as const;
type LinkType = (typeof LINK_TYPES)[number];

function buildTenant(random: Random, index: number): Block {
  const { obj, rel } = namespaced(NS);
  const t = `t${index}`;
  const out: string[] = [];
  // links[g][type] = customers linked to group g with that type; `always` = every customer.
  const links = Array.from({ length: GROUPS }, () => new Map<LinkType, Set<number> | 'always'>());
  const users = CUSTOMERS * USERS_PER_CUSTOMER;
  const customerOf = (u: number): number => Math.floor(u / USERS_PER_CUSTOMER);

  for (let u = 0; u < users; u++) {
    out.push(rel(obj('customer', `${t}.c${customerOf(u)}`), 'member', obj('customer_user', `${t}.u${u}`)));
  }
  // Group 0 is an "always" group: every customer gets read-only access to its queues.
  links[0]!.set('ro', 'always');
  out.push(rel(obj('group', `${t}.g0`), 'ro', `${NS}/customer_user:*`));
  for (let c = 0; c < CUSTOMERS; c++) {
    for (const g of random.sample(
      Array.from({ length: GROUPS - 1 }, (_, k) => k + 1),
      random.between(1, 3),
    )) {
      const type = random.pick(LINK_TYPES);
      let set = links[g]!.get(type);
      if (set === undefined) {
        set = new Set();
        links[g]!.set(type, set);
      }
      if (set !== 'always' && !set.has(c)) {
        set.add(c);
        out.push(rel(obj('group', `${t}.g${g}`), type, `${obj('customer', `${t}.c${c}`)}#member`));
      }
    }
  }
  const queues = GROUPS * QUEUES_PER_GROUP;
  const groupOfQueue = (q: number): number => Math.floor(q / QUEUES_PER_GROUP);
  for (let q = 0; q < queues; q++)
    out.push(rel(obj('queue', `${t}.q${q}`), 'group', obj('group', `${t}.g${groupOfQueue(q)}`)));
  const tickets = Array.from({ length: TICKETS }, (_, k) => {
    const requester = random.int(users);
    const ticket = { queue: random.int(queues), customer: customerOf(requester), requester };
    const id = obj('ticket', `${t}.k${k}`);
    out.push(rel(id, 'queue', obj('queue', `${t}.q${ticket.queue}`)));
    out.push(rel(id, 'customer', obj('customer', `${t}.c${ticket.customer}`)));
    out.push(rel(id, 'requester', obj('customer_user', `${t}.u${requester}`)));
    return ticket;
  });

  const linked = (g: number, type: LinkType, customer: number): boolean => {
    const set = links[g]!.get(type);
    return set === 'always' || (set?.has(customer) ?? false);
  };

  return {
    relationships: out,
    question(r) {
      const k = r.int(TICKETS);
      const ticket = tickets[k]!;
      // Half the questions ask about a user of the ticket's own customer: where same_customer matters.
      const u = r.chance(0.5)
        ? ticket.customer * USERS_PER_CUSTOMER + r.int(USERS_PER_CUSTOMER)
        : r.int(users);
      const c = customerOf(u);
      const g = groupOfQueue(ticket.queue);
      const write = r.chance(0.3);
      const viaQueue = write ? linked(g, 'rw', c) : linked(g, 'ro', c) || linked(g, 'rw', c);
      const sameCustomer = linked(g, 'same_customer', c) && ticket.customer === c;
      return {
        resourceType: `${NS}/ticket`,
        resourceId: `${t}.k${k}`,
        permission: write ? 'write' : 'read',
        subjectType: `${NS}/customer_user`,
        subjectId: `${t}.u${u}`,
        expected: ticket.requester === u || viaQueue || sameCustomer,
      };
    },
  };
}

export const helpdesk: BlockModel = {
  name: 'helpdesk',
  namespace: NS,
  policyDir: 'helpdesk',
  relationshipsPerBlock: 1_700,
  buildBlock: buildTenant,
};
