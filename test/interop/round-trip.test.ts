// Import and export round trips: every seed system under policies/ exports to OpenFGA and
// SpiceDB and imports back to the same schema; import → export → import is stable.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportOpenFga, exportSpiceDb } from '../../server/src/interop/export.js';
import type { ImportResult } from '../../server/src/interop/import.js';
import { importOpenFga, importSpiceDb } from '../../server/src/interop/import.js';
import { compilePolicySet, loadPolicySet } from '../../server/src/policy/compile-policy-set.js';
import { canonicalSchema } from '../../server/src/schema/canonical.js';
import type { Schema } from '../../server/src/schema/schema.js';

/** The canonical schema without deletion consequences, which neither peer can express. */
function shape(schema: Schema): string {
  const c = canonicalSchema(schema.types.values());
  return JSON.stringify(
    c.types.map((t) => ({ ...t, relations: t.relations.map(({ name, types }) => ({ name, types })) })),
  );
}

function compiled(result: ImportResult): Schema {
  expect(result.unsupported).toEqual([]);
  return compilePolicySet(result.files.filter((f) => f.path.includes('schema'))).schema;
}

const seeds = readdirSync('policies', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('every seed system exports to both formats and imports back unchanged', () => {
  it.each(seeds)('%s', async (seed) => {
    const schema = (await loadPolicySet(`policies/${seed}`)).schema;
    const viaOpenFga = compiled(importOpenFga(exportOpenFga(schema), [], 'export'));
    const viaSpiceDb = compiled(importSpiceDb(exportSpiceDb(schema), 'export', false));
    expect(shape(viaOpenFga)).toBe(shape(schema));
    expect(shape(viaSpiceDb)).toBe(shape(schema));
  });
});

describe('import → export → import gives the same schema', () => {
  it('for an OpenFGA model with mixed definitions, arrows and exclusion', () => {
    const model = `model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define owner: [user]
    define parent: [folder]
    define viewer: [user, group#member, user:*] or owner or viewer from parent
type doc
  relations
    define parent: [folder]
    define blocked: [user]
    define can_view: (viewer from parent and owner from parent) but not blocked
`;
    const first = compiled(importOpenFga(model, [], 'model.fga'));
    const second = compiled(importOpenFga(exportOpenFga(first), [], 'export'));
    expect(shape(second)).toBe(shape(first));
    // `viewer` is assignable and computed: its tuples are kept apart.
    expect(first.types.get('folder')!.relations.has('viewer_direct')).toBe(true);
    expect(first.types.get('folder')!.permissions.has('viewer')).toBe(true);
  });

  it('for a SpiceDB schema with nil, subject sets on permissions and exclusion', () => {
    const zed = `definition ns/user {}
definition ns/team {
  relation member: ns/user | ns/team#membership
  permission membership = member
}
definition ns/doc {
  relation parent: ns/doc | ns/team#membership
  relation viewer: ns/user | ns/user:* | ns/team#membership
  relation banned: ns/user
  permission view = viewer + parent->view - banned
  permission never = nil
}`;
    const first = compiled(importSpiceDb(zed, 'schema.zed', false));
    const second = compiled(importSpiceDb(exportSpiceDb(first), 'export', false));
    expect(shape(second)).toBe(shape(first));
  });
});

describe('conditions and caveats round-trip through export and import', () => {
  const model = `model
  schema 1.1
type user
type doc
  relations
    define owner: [user]
    define viewer: [user, user with in_range, user:* with office_hours] or owner
    define guest: [user with in_range]
condition in_range(x: int, limits: list<int>) {
  x > limits[0] && x < limits[1]
}
condition office_hours(now: timestamp, tz: string) {
  now.getHours(tz) >= 9 && now.getHours(tz) < 17
}
`;
  it('OpenFGA: conditions, `with` entries and required conditions survive export and import', () => {
    const first = compiled(importOpenFga(model, [], 'model.fga'));
    expect([...(first.conditions?.keys() ?? [])].sort()).toEqual(['in_range', 'office_hours']);
    const exported = exportOpenFga(first);
    expect(exported).toContain('define guest: [user with in_range]');
    expect(exported).toContain('condition in_range(x: int, limits: list<int>) {');
    const second = compiled(importOpenFga(exported, [], 'export'));
    expect(exportOpenFga(second)).toBe(exported);
  });

  it('SpiceDB: caveats come back as the same conditions', () => {
    const first = compiled(importOpenFga(model, [], 'model.fga'));
    const zed = exportSpiceDb(first);
    expect(zed).toContain('caveat in_range(x int, limits list<int>) {');
    expect(zed).toContain('relation guest: user with in_range');
    const second = compiled(importSpiceDb(zed, 'export', false));
    expect(exportSpiceDb(second)).toBe(zed);
    expect(exportOpenFga(second)).toBe(exportOpenFga(first));
  });
});
