// The seed-system dataset generators: their relationships are valid for the policies under
// policies/ (round-tripped through the relationship YAML and the real policy compiler), and the
// answers their own models give agree with the Gatehouse engine on every sampled question.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockDataset } from '../../bench/datasets/block-dataset.js';
import { allowedShare } from '../../bench/datasets/dataset.js';
import { carrierPanel } from '../../bench/datasets/seed-systems/carrier-panel.js';
import { clientPortal } from '../../bench/datasets/seed-systems/client-portal.js';
import { helpdesk } from '../../bench/datasets/seed-systems/helpdesk.js';
import { salesCrm } from '../../bench/datasets/seed-systems/sales-crm.js';
import { teamCrm } from '../../bench/datasets/seed-systems/team-crm.js';
import { writeDatasetYaml } from '../../bench/datasets/write-yaml.js';
import { createEngine } from '../../server/src/engine/index.js';
import { GraphIndex } from '../../server/src/graph/index.js';
import { loadPolicySet } from '../../server/src/policy/compile-policy-set.js';

const MODELS = [clientPortal, helpdesk, carrierPanel, salesCrm, teamCrm];
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-seed-datasets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(MODELS.map((m) => [m.name, m] as const))('the %s dataset', (name, model) => {
  const options = { relationships: 4 * model.relationshipsPerBlock, seed: 7 };

  it('writes relationship YAML the policy compiler accepts, relationship for relationship', async () => {
    const dataset = blockDataset(model, options);
    const dir = join(scratch, name);
    const written = await writeDatasetYaml(dataset, dir);
    const set = await loadPolicySet(dir);
    expect(written).toBe(dataset.relationshipCount);
    expect(set.relationships).toHaveLength(written);
    expect(
      new Set(set.relationships.map((r) => `${r.relationship.resource.type}:${r.relationship.resource.id}`))
        .size,
    ).toBeGreaterThan(10);
  });

  it('knows the answer the engine gives to every sampled question, with the asked mix', async () => {
    const dataset = blockDataset(model, options);
    const dir = join(scratch, `${name}-engine`);
    await writeDatasetYaml(dataset, dir);
    const set = await loadPolicySet(dir);
    const engine = createEngine(
      set.schema,
      GraphIndex.build(
        set.schema,
        set.relationships.map((r) => r.relationship),
        0,
      ),
    );
    const questions = dataset.sampleChecks(400);
    expect(questions).toHaveLength(400);
    expect(allowedShare(questions)).toBeCloseTo(0.5, 1);
    const disagreements = questions.filter(
      (q) =>
        engine.check({
          resource: { type: q.resourceType, id: q.resourceId },
          permission: q.permission,
          subject: { type: q.subjectType, id: q.subjectId },
        }) !== q.expected,
    );
    expect(disagreements).toEqual([]);
  });

  it('is reproducible from its seed and changes with it', () => {
    const first = [...blockDataset(model, options).relationships()];
    const again = [...blockDataset(model, options).relationships()];
    const other = [...blockDataset(model, { ...options, seed: 8 }).relationships()];
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(blockDataset(model, options).sampleChecks(50)).toEqual(
      blockDataset(model, options).sampleChecks(50),
    );
  });
});
