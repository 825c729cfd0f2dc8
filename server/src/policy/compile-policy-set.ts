// Compiles a whole policy set: parses every file, compiles the merged schema, then checks every
// relationship, assertion, lookup and step of the data and test files against it. Throws one
// PolicyError with every problem of every file, or returns the validated PolicySet.

import type { RequestFacts } from '../engine/types.js';
import { PolicyError } from '../errors.js';
import { compileSchemaCollecting } from '../schema/compile.js';
import type { Schema } from '../schema/schema.js';
import type { CheckFactsAst, PolicyFileAst, SchemaFileAst, StepAst, TestFileAst } from './ast.js';
import { loadPolicyDirectory } from './load-directory.js';
import { parsePolicyFile } from './parse-file.js';
import type {
  CheckAssertion,
  LookupAssertion,
  PolicyFileSource,
  PolicySet,
  PolicyTestFile,
  PositionedRelationship,
  RelationshipFileRef,
  TestStep,
} from './policy-set.js';
import { ProblemList } from './problem-list.js';
import { StringResolver } from './resolve-strings.js';

/** The items, if every one resolved; otherwise undefined (each failure is already a problem). */
function allResolved<T>(items: readonly (T | undefined)[]): readonly T[] | undefined {
  return items.every((item): item is T => item !== undefined) ? items : undefined;
}

/** A check's or lookup's `context`, `now` and `contextual_relationships` as RequestFacts. */
function compileFacts(f: CheckFactsAst, r: StringResolver): RequestFacts {
  return {
    context: f.context?.value,
    now: f.now === undefined ? undefined : r.timestamp(f.now),
    contextualRelationships:
      f.contextual === undefined ? undefined : r.relationships(f.contextual).map((p) => p.relationship),
  };
}

function compileStep(step: StepAst, r: StringResolver): TestStep | undefined {
  switch (step.kind) {
    case 'allowed':
    case 'denied':
    case 'conditional': {
      const check = r.check(step.check);
      if (check === undefined) return undefined;
      const assertion = { kind: step.kind, check, source: step.check.text, position: step.check.position };
      const f = step.facts;
      if (f === undefined) return assertion;
      const facts = compileFacts(f, r);
      const missing = f.missing?.map((m) => m.text).sort();
      return missing === undefined ? { ...assertion, facts } : { ...assertion, facts, missing };
    }
    case 'resources': {
      const query = r.resourcesQuery(step.query);
      if (query === undefined) return undefined;
      const expect = allResolved(step.expect.map((e) => r.expectedObject(e, query.resourceType)));
      const conditional = allResolved(
        (step.conditional ?? []).map((e) => r.expectedObject(e, query.resourceType)),
      );
      if (expect === undefined || conditional === undefined) return undefined;
      return {
        ...query,
        expect,
        ...(step.conditional === undefined ? {} : { conditional }),
        ...(step.facts === undefined ? {} : { facts: compileFacts(step.facts, r) }),
        source: step.query.text,
        position: step.query.position,
      };
    }
    case 'subjects': {
      const query = r.subjectsQuery(step.query);
      if (query === undefined) return undefined;
      const expect = allResolved(
        step.expect.map((e) => r.expectedSubject(e, query.subjectType, query.subjectRelation)),
      );
      const conditional = allResolved(
        (step.conditional ?? []).map((e) => r.expectedSubject(e, query.subjectType, query.subjectRelation)),
      );
      if (expect === undefined || conditional === undefined) return undefined;
      return {
        ...query,
        expect,
        ...(step.conditional === undefined ? {} : { conditional }),
        ...(step.facts === undefined ? {} : { facts: compileFacts(step.facts, r) }),
        source: step.query.text,
        position: step.query.position,
      };
    }
    case 'write':
    case 'delete':
      return { kind: step.kind, relationships: r.relationships(step.relationships), position: step.position };
    case 'delete_object': {
      const object = r.object(step.object);
      return object === undefined ? undefined : { kind: 'delete_object', object, position: step.position };
    }
  }
}

function compileTestFile(file: TestFileAst, schema: Schema, problems: ProblemList): PolicyTestFile {
  const r = new StringResolver(schema, file.namespace, problems);
  const compileAll = <T extends TestStep>(steps: readonly StepAst[]): T[] =>
    steps.map((s) => compileStep(s, r)).filter((s): s is T => s !== undefined);
  return {
    path: file.path,
    name: file.name,
    relationships: r.relationships(file.relationships),
    assertions: compileAll<CheckAssertion>(file.assertions),
    lookups: compileAll<LookupAssertion>(file.lookups),
    steps: compileAll<TestStep>(file.steps),
  };
}

/**
 * Compile policy files into a PolicySet. Files are processed in path order, so the result (and
 * which of two duplicate definitions is reported) does not depend on the order given.
 * Throws PolicyError listing every problem of every file, sorted by file, line and column.
 */
export function compilePolicySet(files: readonly PolicyFileSource[]): PolicySet {
  const problems = new ProblemList();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const asts: PolicyFileAst[] = [];
  const unreadable: PolicyFileSource[] = [];
  for (const file of sorted) {
    const ast = parsePolicyFile(file.path, file.content, problems);
    if (ast !== undefined) asts.push(ast);
    else unreadable.push(file);
  }
  // A schema file that could not be read leaves its types undeclared: every other file would
  // then report each use of them as "unknown type", burying the one real cause. Report only
  // the cause and say what was not checked.
  const lostSchema = unreadable.filter((f) => mayDeclareTypes(f.content));
  if (lostSchema.length > 0 && unreadable.length < sorted.length) {
    const first = problems.problems.find((p) => p.position.file === lostSchema[0]!.path)!;
    const others = sorted.length - unreadable.length;
    const note = ` (the types this schema file declares stay unknown until it can be read, so ${others} other file${others === 1 ? ' was' : 's were'} not checked)`;
    throw new PolicyError(
      problems.problems.map((p) => (p === first ? { ...p, message: p.message + note } : p)),
    );
  }
  const schema = compileSchemaCollecting(
    asts.filter((a): a is SchemaFileAst => a.kind === 'schema'),
    problems,
  );
  const relationships: PositionedRelationship[] = [];
  const relationshipFiles: RelationshipFileRef[] = [];
  const tests: PolicyTestFile[] = [];
  for (const ast of asts) {
    if (ast.kind === 'relationships' && ast.file !== undefined) {
      relationshipFiles.push({
        policyFile: ast.path,
        file: ast.file.text,
        namespace: ast.namespace,
        position: ast.file.position,
      });
    } else if (ast.kind === 'relationships') {
      // A loop, not push(...spread): a data file may hold millions of relationships, more
      // than a call's argument list can carry.
      for (const r of new StringResolver(schema, ast.namespace, problems).relationships(ast.relationships)) {
        relationships.push(r);
      }
    } else if (ast.kind === 'test') {
      tests.push(compileTestFile(ast, schema, problems));
    }
  }
  problems.throwIfAny();
  return {
    schema,
    relationships,
    tests,
    files: sorted.map((f) => f.path),
    warnings: new PolicyError(problems.warnings).problems,
    relationshipFiles,
  };
}

/** Whether an unreadable file may have been a schema file: its text mentions `kind: schema` or `types:`. */
function mayDeclareTypes(content: string): boolean {
  return /^\s*kind\s*:\s*['"]?schema\b/m.test(content) || /^\s*types\s*:/m.test(content);
}

/**
 * Load every policy file under `dir` and compile them: see loadPolicyDirectory and
 * compilePolicySet. Bulk relationship files are not read here (see policyRelationshipChunks).
 */
export async function loadPolicySet(dir: string): Promise<PolicySet> {
  return { ...compilePolicySet(await loadPolicyDirectory(dir)), root: dir };
}
