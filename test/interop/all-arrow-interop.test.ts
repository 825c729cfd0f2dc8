// `via.all(name)` across the peers: SpiceDB's `.all()` imports as it and exports back to it;
// OpenFGA has no such operator, so exporting a schema that uses it is refused, naming each
// permission, and nothing is written.
import { describe, expect, it } from 'vitest';
import { exportOpenFga, exportSpiceDb, NotExportableError } from '../../server/src/interop/export.js';
import { importSpiceDb } from '../../server/src/interop/import.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import { canonicalSchema } from '../../server/src/schema/canonical.js';
import type { Schema } from '../../server/src/schema/schema.js';

const ZED = `definition user {}

definition team {
  relation member: user
}

definition resource {
  relation team: team
  relation owner: user
  permission view_by_all = team.all(member) + owner
  permission view_by_any = team.any(member)
}
`;

function schemaOf(text: string): Schema {
  const result = importSpiceDb(text, 'schema.zed', false);
  expect(result.unsupported).toEqual([]);
  return compilePolicySet(result.files.filter((f) => f.path.includes('schema'))).schema;
}

describe('.all() arrows between SpiceDB and Gatehouse', () => {
  it('import as via.all(name), .any() as ->, and export back the same schema', () => {
    const schema = schemaOf(ZED);
    const resource = schema.types.get('resource')!;
    expect(resource.permissions.get('view_by_all')!.expr).toEqual({
      op: 'union',
      operands: [
        { op: 'allArrow', via: 'team', name: 'member' },
        { op: 'ref', name: 'owner', target: 'relation' },
      ],
    });
    expect(resource.permissions.get('view_by_any')!.expr).toEqual({
      op: 'arrow',
      via: 'team',
      name: 'member',
    });
    const exported = exportSpiceDb(schema);
    expect(exported).toContain('permission view_by_all = team.all(member) + owner');
    const again = schemaOf(exported);
    expect(JSON.stringify(canonicalSchema(again.types.values()))).toBe(
      JSON.stringify(canonicalSchema(schema.types.values())),
    );
  });

  it('refuse the OpenFGA export, naming every permission that uses one', () => {
    const schema = schemaOf(ZED);
    let error: unknown;
    try {
      exportOpenFga(schema);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NotExportableError);
    expect((error as NotExportableError).permissions).toEqual(['resource#view_by_all']);
    expect((error as Error).message).toBe(
      "OpenFGA has no intersection arrow ('via.all(name)': true only when every object of 'via' holds 'name'; OpenFGA's 'name from via' holds when any one does), so this permission cannot be exported: 'resource#view_by_all = team.all(member) or owner'; export to SpiceDB, or rewrite it without '.all()'",
    );
  });
});
