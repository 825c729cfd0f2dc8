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
