// Runs OpenFGA's consolidated conformance tests through `gatehouse import`: each stage's model
// is imported, its tuples (with those of earlier stages that the model can still hold, as
// OpenFGA keeps them) loaded, and every check, list-objects and list-users assertion answered
// by the engine with OpenFGA's depth limit of 25. Conditions (abac_tests.yaml): an assertion's
// `context` goes with the request; OpenFGA's "missing context" error (2000) must be Gatehouse's
// conditional answer — never a silent deny.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { collectSubjectCandidates } from '../../server/src/engine/lookup-subjects.js';
import { SchemaModel } from '../../server/src/engine/schema-model.js';
import type { Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { importOpenFga } from '../../server/src/interop/import.js';
import type { Relationship } from '../../server/src/model/relationship.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { validateRelationship } from '../../server/src/schema/validate.js';
import type { AssertionResult } from './tally.js';

interface Tuple {
  object: string;
  relation: string;
  user: string;
  condition?: unknown;
}
interface Stage {
  model: string;
  tuples?: Tuple[] | null;
  checkAssertions?:
    | {
        tuple: Tuple;
        expectation?: boolean;
        errorCode?: number;
        contextualTuples?: Tuple[];
        context?: unknown;
      }[]
    | null;
  listObjectsAssertions?:
    | {
        request: {
          user: string;
          type: string;
          relation: string;
          contextualTuples?: Tuple[];
          context?: unknown;
        };
        contextualTuples?: Tuple[];
        expectation?: string[] | null;
        errorCode?: number;
      }[]
    | null;
  listUsersAssertions?:
    | {
        request: {
          filters: string[];
          object: string;
          relation: string;
          contextualTuples?: Tuple[];
          context?: unknown;
        };
        contextualTuples?: Tuple[];
        expectation?: string[] | null;
        errorCode?: number;
      }[]
    | null;
}

/** OpenFGA's error code for a condition evaluated without the context it needs. */
const MISSING_CONTEXT = 2000;

/** OpenFGA's default resolution depth; its suite expects "too complex" (2002) beyond it. */
export const OPENFGA_MAX_DEPTH = 25;

function modelFeatures(dsl: string): string[] {
  const f = new Set<string>();
  if (/\[[^\]]*\]/.test(dsl)) f.add('direct');
  if (/:\*/.test(dsl)) f.add('wildcard');
  if (/\[[^\]]*#/.test(dsl)) f.add('userset');
  if (/\bfrom\b/.test(dsl)) f.add('tuple-to-userset');
  if (/\bor\b/.test(dsl)) f.add('union');
  if (/\band\b/.test(dsl)) f.add('intersection');
  if (/\bbut not\b/.test(dsl)) f.add('exclusion');
  if (/define \w+: \w+\s*$/m.test(dsl)) f.add('computed');
  if (/\bwith\b|\bcondition\b/.test(dsl)) f.add('condition');
  return [...f];
}

const sortStrings = (xs: Iterable<string>): string[] => [...xs].sort();

export interface RunOptions {
  /** Sanity mode: drop the first tuple of every stage, so some assertions must fail. */
  readonly dropOneTuplePerStage?: boolean;
  /** Drops the `missing_context: strict` the importer writes: Gatehouse's default rule instead of OpenFGA's. */
  readonly defaultMissingContext?: boolean;
}

export function runOpenFgaSuite(file: string, options: RunOptions = {}): AssertionResult[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { tests: { name: string; stages: Stage[] }[] };
  const results: AssertionResult[] = [];
  for (const test of doc.tests) {
    const kept: Tuple[] = [];
    for (const [index, stage] of test.stages.entries()) {
      const name = `${test.name}[${index}]`;
      const features = modelFeatures(stage.model);
      const assertions = [
        ...(stage.checkAssertions ?? []).map((a) => ({ kind: 'check' as const, a })),
        ...(stage.listObjectsAssertions ?? []).map((a) => ({ kind: 'list-objects' as const, a })),
        ...(stage.listUsersAssertions ?? []).map((a) => ({ kind: 'list-users' as const, a })),
      ];
      const notImportable = (detail: string): void => {
        for (const { kind } of assertions) {
          results.push({
            suite: 'openfga',
            test: name,
            what: kind,
            outcome: 'not importable',
            features,
            detail,
          });
        }
      };
      let schema: Schema;
      let typeNames: ReadonlyMap<string, string> = new Map();
      try {
        const imported = importOpenFga(stage.model, [], join(file, test.name));
        if (imported.unsupported.length > 0) {
          notImportable(imported.unsupported.map((u) => `${u.feature}: ${u.detail}`).join('; '));
          continue;
        }
        const files =
          options.defaultMissingContext === true
            ? imported.files.map((f) => ({
                ...f,
                content: f.content.replace(/^missing_context: strict$/m, ''),
              }))
            : imported.files;
        schema = compilePolicySet(files).schema;
        typeNames = imported.typeNames;
      } catch (err) {
        notImportable((err as Error).message);
        continue;
      }
      /** `type:id…` or `type` with the type renamed as the import renamed it. */
      const rename = (ref: string): string => {
        const colon = ref.indexOf(':');
        const type = colon < 0 ? ref : ref.slice(0, colon);
        return (typeNames.get(type) ?? type) + (colon < 0 ? '' : ref.slice(colon));
      };
      const stageTuples = [...(stage.tuples ?? [])];
      if (options.dropOneTuplePerStage === true) stageTuples.shift();
      kept.push(...stageTuples);
      const graph = GraphIndex.build(schema, [], 1);
      const toRelationship = (t: Tuple, strict = false): Relationship | undefined => {
        const text = importOpenFga(stage.model, [t], 'tuple').files.find(
          (f) => f.path === 'relationships.yaml',
        );
        const line = text?.content.split('\n').find((l) => l.startsWith('  - '));
        if (line === undefined) return undefined;
        try {
          const rel = parseRelationship(JSON.parse(line.slice(4)) as string);
          validateRelationship(schema, rel);
          return rel;
        } catch (err) {
          // OpenFGA ignores stored tuples a later model cannot hold, and refuses bad contextual ones.
          if (strict) throw err;
          return undefined;
        }
      };
      for (const t of kept) {
        const rel = toRelationship(t);
        if (rel !== undefined) graph.add(rel);
      }
      const engine = createEngine(schema, graph, { maxDepth: OPENFGA_MAX_DEPTH });
      const model = new SchemaModel(schema);
      /** Runs `answer` with the contextual tuples added, then removes the ones it added. */
      const withContext = <T>(extra: readonly Tuple[] | undefined, answer: (e: Engine) => T): T => {
        const added: Relationship[] = [];
        for (const t of extra ?? []) {
          const rel = toRelationship(t, true);
          if (rel !== undefined && graph.add(rel)) added.push(rel);
        }
        try {
          return answer(engine);
        } finally {
          for (const rel of added) graph.remove(rel);
        }
      };
      const record = (what: string, ok: boolean, detail: string): void => {
        results.push({
          suite: 'openfga',
          test: name,
          what,
          outcome: ok ? 'passed' : 'failed',
          features,
          detail,
        });
      };
      for (const { kind, a } of assertions) {
        const request = (a as { request?: { context?: unknown } }).request;
        const rawContext = request?.context ?? (a as { context?: unknown }).context;
        const context =
          rawContext === undefined || rawContext === null
            ? undefined
            : (rawContext as Record<string, unknown>);
        // OpenFGA answers a check that needs context it was not given with error 2000.
        const wantsConditional = (a as { errorCode?: number }).errorCode === MISSING_CONTEXT;
        try {
          if (kind === 'check') {
            const c = a as NonNullable<Stage['checkAssertions']>[number];
            const t = c.tuple;
            const d = withContext(c.contextualTuples, (e) =>
              e.decide({
                resource: parseRelationship(`${rename(t.object)}#x@user:x`).resource,
                permission: t.relation,
                subject: parseRelationship(`x:x#x@${rename(t.user)}`).subject,
                context,
              }),
            );
            const want = wantsConditional ? 'conditional' : c.expectation === true ? 'allowed' : 'denied';
            record(
              `check ${t.object}#${t.relation}@${t.user}`,
              (c.errorCode === undefined || wantsConditional) && d.permissionship === want,
              `got ${d.permissionship}`,
            );
          } else if (kind === 'list-objects') {
            const l = a as NonNullable<Stage['listObjectsAssertions']>[number];
            const r = l.request;
            let conditional = 0;
            const ids = withContext(l.contextualTuples ?? r.contextualTuples, (e) => {
              const out: string[] = [];
              for (const page of e.lookupResourcePages({
                resourceType: rename(r.type),
                permission: r.relation,
                subject: parseRelationship(`x:x#x@${rename(r.user)}`).subject,
                context,
              })) {
                out.push(...page.resourceIds.map((id) => `${r.type}:${id}`));
                conditional += page.conditional?.length ?? 0;
              }
              return out;
            });
            const want = sortStrings(l.expectation ?? []);
            record(
              `list-objects ${r.type}#${r.relation}@${r.user}`,
              wantsConditional
                ? conditional > 0
                : l.errorCode === undefined &&
                    conditional === 0 &&
                    JSON.stringify(sortStrings(ids)) === JSON.stringify(want),
              `got ${ids.join(',')} and ${conditional} conditional`,
            );
          } else {
            const l = a as NonNullable<Stage['listUsersAssertions']>[number];
            const r = l.request;
            const resource = parseRelationship(`${rename(r.object)}#x@user:x`).resource;
            let conditional = 0;
            const got = withContext(l.contextualTuples ?? r.contextualTuples, (e) => {
              const out = new Set<string>();
              for (const filter of r.filters) {
                const [written, relation] = filter.split('#') as [string, string | undefined];
                const type = rename(written);
                const answer = e.lookupSubjects({
                  resource,
                  permission: r.relation,
                  subjectType: type,
                  subjectRelation: relation,
                  context,
                });
                conditional += answer.conditional?.length ?? 0;
                if (answer.wildcard) {
                  // OpenFGA lists the wildcard and the concrete subjects met on the way to it.
                  out.add(`${written}:*`);
                  const node = model.requireNode(resource.type, r.relation).index;
                  const x = graph.interner(resource.type)!.lookup(resource.id);
                  for (const id of collectSubjectCandidates(model, graph, node, x, {
                    typeName: type,
                    node: -1,
                  })) {
                    const subject = graph.interner(type)!.id(id);
                    const d = e.decide({
                      resource,
                      permission: r.relation,
                      subject: { type, id: subject },
                      context,
                    });
                    if (d.permissionship === 'allowed') out.add(`${written}:${subject}`);
                  }
                }
                for (const id of answer.subjectIds)
                  out.add(relation === undefined ? `${written}:${id}` : `${written}:${id}#${relation}`);
              }
              return sortStrings(out);
            });
            const want = sortStrings(l.expectation ?? []);
            record(
              `list-users ${r.object}#${r.relation} ${r.filters.join(',')}`,
              wantsConditional
                ? conditional > 0
                : l.errorCode === undefined &&
                    conditional === 0 &&
                    JSON.stringify(got) === JSON.stringify(want),
              `got ${got.join(',')} and ${conditional} conditional`,
            );
          }
        } catch (err) {
          const code = (a as { errorCode?: number }).errorCode;
          record(kind, code !== undefined, `threw ${(err as Error).message}`);
        }
      }
    }
  }
  return results;
}
