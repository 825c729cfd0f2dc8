// The correctness gate and the facts the peers are handed: a system that disagrees with the
// dataset on one question stops the comparison and names that question; the plain facts give
// the same answers as the group-visibility generator's model.
import { describe, expect, it } from 'vitest';
import { groupVisibilityDataset } from '../../bench/datasets/group-visibility-adapter.js';
import { cerbosPayloads } from '../../bench/peers/cerbos/policy.js';
import { referenceCheck } from '../../bench/peers/visibility-facts.js';
import { correctnessGate, GateFailure, syncParticipant } from '../../bench/suite/gate.js';

const dataset = groupVisibilityDataset({ relationships: 5_000, seed: 3 });
const questions = dataset.sampleChecks(300);

describe('correctness gate', () => {
  it('passes systems that agree with every known answer', async () => {
    const log: string[] = [];
    const passed = await correctnessGate(
      questions,
      [syncParticipant('oracle', (q) => q.expected === true)],
      (l) => log.push(l),
    );
    expect(passed).toEqual(['oracle']);
    expect(log[0]).toMatch(/oracle agrees on all 300 questions/);
  });

  it('asks a slow system only its prefix of the questions, and says how many it checked', async () => {
    const log: string[] = [];
    const asked: number[] = [];
    const slow = {
      system: 'slow',
      maxQuestions: 10,
      answer: async (qs: readonly (typeof questions)[number][]) => {
        asked.push(qs.length);
        return qs.map((q) => q.expected === true);
      },
    };
    await correctnessGate(questions, [slow], (l) => log.push(l));
    expect(asked).toEqual([10]);
    expect(log[0]).toMatch(/slow agrees on all 10 questions/);
  });

  it('aborts on the first disagreement and names the question and both answers', async () => {
    const flipped = questions.findIndex((q) => q.expected);
    const liar = syncParticipant('liar', (q) => (q === questions[flipped] ? false : q.expected === true));
    const run = correctnessGate(questions, [liar], () => {});
    await expect(run).rejects.toBeInstanceOf(GateFailure);
    const q = questions[flipped]!;
    await expect(run).rejects.toThrow(
      `liar says denied for ${q.resourceType}:${q.resourceId}#view@${q.subjectType}:${q.subjectId}, but the dataset's model says allowed`,
    );
  });
});

describe('group-visibility facts handed to the peers', () => {
  it('answer every sampled question as the generator does, half of them allowed', () => {
    const facts = dataset.visibilityFacts!();
    expect(questions.filter((q) => q.expected)).toHaveLength(150);
    for (const q of questions) expect(referenceCheck(facts, q.subjectId, q.resourceId)).toBe(q.expected);
  });

  it('give Cerbos each principal its transitive groups, not only its direct ones', () => {
    const facts = dataset.visibilityFacts!();
    const nested = questions.find((q) =>
      (facts.userGroups.get(q.subjectId) ?? []).some((g) => (facts.groupParents.get(g) ?? []).length > 0),
    )!;
    const body = cerbosPayloads(facts, [nested]).http[0] as { principal: { attr: { groups: string[] } } };
    const direct = facts.userGroups.get(nested.subjectId)!;
    const parent = facts.groupParents.get(
      direct.find((g) => (facts.groupParents.get(g) ?? []).length > 0)!,
    )![0]!;
    expect(body.principal.attr.groups).toEqual(expect.arrayContaining([...direct, parent]));
  });
});
