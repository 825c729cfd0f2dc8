// The correctness gate: before anything is timed, every system answers the same sampled
// questions; one disagreement with the dataset's known answer aborts the comparison and names
// the question, the expected answer and what each system said.
import type { AnsweredQuestion } from '../datasets/dataset.js';
import type { Question } from '../harness/types.js';

export interface GateParticipant {
  readonly system: string;
  /** Answer only the first this many questions (for systems too slow for the whole set). */
  readonly maxQuestions?: number | undefined;
  /** Answers in question order. */
  answer(questions: readonly Question[]): Promise<readonly boolean[]>;
}

export class GateFailure extends Error {
  override readonly name = 'GateFailure';
}

export function describeQuestion(q: Question): string {
  const subject = `${q.subjectType}:${q.subjectId}${q.subjectRelation === undefined ? '' : `#${q.subjectRelation}`}`;
  return `${q.resourceType}:${q.resourceId}#${q.permission}@${subject}`;
}

/** Resolves with the systems that passed; throws GateFailure at the first disagreement. */
export async function correctnessGate(
  questions: readonly AnsweredQuestion[],
  participants: readonly GateParticipant[],
  log: (line: string) => void,
): Promise<string[]> {
  const passed: string[] = [];
  for (const p of participants) {
    const asked = questions.slice(0, p.maxQuestions ?? questions.length);
    const answers = await p.answer(asked);
    if (answers.length !== asked.length) {
      throw new GateFailure(`${p.system} answered ${answers.length} of ${asked.length} gate questions`);
    }
    const wrong = asked.findIndex((q, i) => answers[i] !== q.expected);
    if (wrong >= 0) {
      const q = asked[wrong]!;
      throw new GateFailure(
        `correctness gate: ${p.system} says ${answers[wrong] ? 'allowed' : 'denied'} for ${describeQuestion(q)}, ` +
          `but the dataset's model says ${q.expected ? 'allowed' : 'denied'}; comparison aborted`,
      );
    }
    log(`  gate: ${p.system} agrees on all ${asked.length} questions`);
    passed.push(p.system);
  }
  return passed;
}

/** Adapt a synchronous one-at-a-time checker. */
export function syncParticipant(system: string, check: (q: Question) => boolean): GateParticipant {
  return { system, answer: async (questions) => questions.map(check) };
}
