// Mutation tests: weaken one rule of a seed policy and the seed tests must catch it, at the
// assertions that describe that rule. Proves the seed tests bite.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyFileSource } from '../../server/src/policy/index.js';
import { compilePolicySet, loadPolicyDirectory } from '../../server/src/policy/index.js';
import { runPolicyTests } from '../../server/src/testing/index.js';

let pristine: PolicyFileSource[];
beforeAll(async () => {
  pristine = await loadPolicyDirectory('policies');
});

/** The policy files with `from` replaced by `to` in `path`; `from` must occur exactly once. */
function mutate(path: string, from: string, to: string): PolicyFileSource[] {
  return pristine.map((file) => {
    if (file.path !== path) return file;
    const occurrences = file.content.split(from).length - 1;
    if (occurrences !== 1) throw new Error(`expected '${from}' once in ${path}, found ${occurrences}`);
    return { path, content: file.content.replace(from, to) };
  });
}

/** The failing assertions, as `file: source`, of the mutated policy set. */
async function failuresOf(files: PolicyFileSource[]): Promise<string[]> {
  const report = await runPolicyTests(compilePolicySet(files));
  return report.files.flatMap((f) => f.failures.map((x) => `${x.position.file}: ${x.source}`));
}

describe('seed tests catch weakened policies', () => {
  it('the unmutated policies pass (the baseline the mutations are measured against)', async () => {
    expect(await failuresOf(pristine)).toEqual([]);
  });

  it('team CRM without if_emptied_by_delete: group-only items stay hidden after the group goes', async () => {
    const failures = await failuresOf(
      mutate('team_crm/schema.yaml', '        if_emptied_by_delete: user:*\n', ''),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        'team_crm/group-deletion.test.yaml: allowed: contact:prospect2#view@user:sue',
        'team_crm/group-deletion.test.yaml: allowed: contact:prospect2#view@user:rita',
        'team_crm/group-deletion.test.yaml: allowed: contact:prospect1#view@user:rita',
        'team_crm/group-deletion.test.yaml: allowed: contact:mike_for_sales#view@user:rita',
      ]),
    );
    // Only the group-deletion behaviour depends on the consequence.
    expect(failures.every((f) => f.startsWith('team_crm/group-deletion.test.yaml'))).toBe(true);
  });

  it('team CRM without the registration gate: invited users see everyone-visible items', async () => {
    const failures = await failuresOf(
      mutate(
        'team_crm/schema.yaml',
        'view: (owner or viewer or account->administer) and account->active',
        'view: owner or viewer or account->administer',
      ),
    );
    expect(failures).toContain(
      'team_crm/user-lifecycle.test.yaml: denied: contact:public_lead#view@user:ivy',
    );
    expect(failures).toContain('team_crm/user-lifecycle.test.yaml: resources: contact#view@user:ivy');
  });

  it('team CRM letting owners make items private is caught', async () => {
    const failures = await failuresOf(
      mutate(
        'team_crm/schema.yaml',
        'make_private: account->administer',
        'make_private: owner or account->administer',
      ),
    );
    expect(failures).toEqual([
      'team_crm/visibility.test.yaml: denied: contact:public_lead#make_private@user:mike',
    ]);
  });

  it('carrier panel whose granular mode no longer nullifies global grants', async () => {
    const failures = await failuresOf(
      mutate(
        'carrier_panel/schema.yaml',
        'global_read_grant: (member and global_read) but not granular_mode',
        'global_read_grant: member and global_read',
      ),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        'carrier_panel/global-and-granular.test.yaml: denied: feature:routing#read@user:bill',
        'carrier_panel/global-and-granular.test.yaml: resources: feature#read@user:bill',
      ]),
    );
  });

  it('carrier panel whose granular mode leaks across groups', async () => {
    // Nullifying by "any of the user's groups is granular" breaks "each group on its own terms".
    const failures = await failuresOf(
      mutate(
        'carrier_panel/schema.yaml',
        'global_read: group->global_read_grant',
        'global_read: group->global_read_grant but not group->granular_mode',
      ),
    );
    expect(failures).toContain(
      'carrier_panel/global-and-granular.test.yaml: allowed: feature:routing#read@user:carl',
    );
  });

  it('carrier panel whose NOC-only membership ignores the caller’s address', async () => {
    const source = 'carrier_panel/noc-network.test.yaml';
    const failures = await failuresOf(
      mutate(
        'carrier_panel/schema.yaml',
        'expression: networks.exists(cidr, ip.in_cidr(cidr))',
        'expression: networks.size() > 0',
      ),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        `${source}: denied: feature:routing#update@user:nina`,
        `${source}: conditional: feature:routing#update@user:nina`,
        `${source}: conditional: feature:invoices#read@user:nina`,
        `${source}: resources: feature#read@user:nina`,
      ]),
    );
  });

  it('helpdesk same_customer without the customer match exposes other customers’ tickets', async () => {
    const failures = await failuresOf(
      mutate(
        'helpdesk/schema.yaml',
        'same_customer_access: queue->same_customer and customer->member',
        'same_customer_access: queue->same_customer',
      ),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        'helpdesk/permission-types.test.yaml: denied: ticket:support_globex#read@customer_user:alice',
        'helpdesk/permission-types.test.yaml: denied: ticket:general_globex#read@customer_user:alice',
      ]),
    );
  });

  it('helpdesk with ro granting writes', async () => {
    const failures = await failuresOf(
      mutate('helpdesk/schema.yaml', 'write_tickets: rw', 'write_tickets: ro or rw'),
    );
    expect(failures).toContain(
      'helpdesk/permission-types.test.yaml: denied: ticket:billing_acme#write@customer_user:alice',
    );
    expect(failures).toContain('helpdesk/links.test.yaml: resources: group#write_tickets@customer_user:gina');
  });

  it('client portal where explicitly grouped clients also keep the default group', async () => {
    const failures = await failuresOf(
      mutate(
        'client_portal/schema.yaml',
        'ungrouped_client: client but not grouped_client',
        'ungrouped_client: client',
      ),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        'client_portal/default-group.test.yaml: denied: portal_permission:open_tickets#use@client:bob',
        'client_portal/default-group.test.yaml: subjects: client_group:retail#effective_member@client',
      ]),
    );
  });

  it('client portal that forgets the default group when granting permissions', async () => {
    const failures = await failuresOf(
      mutate('client_portal/schema.yaml', 'use: granted_to->effective_member', 'use: granted_to->member'),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        'client_portal/default-group.test.yaml: allowed: portal_permission:view_invoices#use@client:alice',
        'client_portal/default-group.test.yaml: allowed: portal_permission:open_tickets#use@client:dave',
        'client_portal/permissions.test.yaml: allowed: portal_permission:pay_invoices#use@client:alice',
      ]),
    );
  });

  it('client portal whose business hours ignore the hour or the time zone', async () => {
    const source = 'client_portal/business-hours.test.yaml';
    const anyHour = await failuresOf(
      mutate(
        'client_portal/schema.yaml',
        'current_time.getHours(timezone) >= open_hour && current_time.getHours(timezone) < close_hour',
        'true',
      ),
    );
    expect(anyHour).toContain(`${source}: denied: portal_permission:live_chat#use@client:bob`);
    expect(anyHour.every((f) => f.startsWith(source))).toBe(true);
    // Reading the hour in UTC instead of the portal's zone opens an hour late in winter.
    const utc = await failuresOf(
      mutate(
        'client_portal/schema.yaml',
        'current_time.getHours(timezone) >= open_hour',
        'current_time.getHours() >= open_hour',
      ),
    );
    expect(utc).toContain(`${source}: allowed: portal_permission:live_chat#use@client:bob`);
  });

  it('team CRM whose office-only export ignores the caller’s address', async () => {
    const source = 'team_crm/office-network.test.yaml';
    const failures = await failuresOf(
      mutate(
        'team_crm/schema.yaml',
        'expression: office_cidrs.exists(cidr, ip.in_cidr(cidr))',
        'expression: office_cidrs.size() > 0',
      ),
    );
    expect(failures).toEqual(
      expect.arrayContaining([
        `${source}: denied: contact:public_lead#export@user:rita`,
        `${source}: conditional: contact:public_lead#export@user:rita`,
        `${source}: conditional: account:acme#export_data@user:ivy`,
        // rita becomes a definite exporter, so the entitlements lookup catches it too.
        'team_crm/entitlements.test.yaml: subjects: account:acme#export_data@user',
      ]),
    );
  });

  it('sales CRM whose holiday cover never ends', async () => {
    const source = 'sales_crm/holiday-cover.test.yaml';
    const failures = await failuresOf(mutate('sales_crm/data.yaml', '[expiration:2027-01-15T00:00:00Z]', ''));
    expect(failures).toEqual([
      `${source}: denied: client:cafe_norte#view@user:sofia`,
      `${source}: denied: client_group:norte#view@user:sofia`,
    ]);
  });

  it('sales CRM where administrators no longer see unassigned clients', async () => {
    const failures = await failuresOf(
      mutate('sales_crm/schema.yaml', 'view: group->view or crm->admin', 'view: group->view'),
    );
    expect(failures).toContain('sales_crm/bolsas.test.yaml: allowed: client:espiga#view@user:ana');
  });
});
