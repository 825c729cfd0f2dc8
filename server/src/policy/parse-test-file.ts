// Parses a `kind: test` file: fixtures, assertions, lookups and steps, each kept as written
// with its position; the policy-set compiler checks the strings against the schema.

import type { Node } from 'yaml';
import { isMap } from 'yaml';
import type { CheckAssertionAst, CheckFactsAst, Located, LookupAst, StepAst, TestFileAst } from './ast.js';
import { fileInput } from './file-input.js';
import type { MapEntry, YamlReader } from './yaml-reader.js';

type Action =
  | 'allowed'
  | 'denied'
  | 'conditional'
  | 'resources'
  | 'subjects'
  | 'write'
  | 'delete'
  | 'delete_object';

const CHECKS: readonly Action[] = ['allowed', 'denied', 'conditional'];
/** Keys a check item may carry besides its action. */
const CHECK_FACTS = ['context', 'now', 'contextual_relationships', 'missing'];
const LOOKUPS: readonly Action[] = ['resources', 'subjects'];
const STEPS: readonly Action[] = [...CHECKS, ...LOOKUPS, 'write', 'delete', 'delete_object'];

function describeActions(actions: readonly Action[]): string {
  return actions.map((a) => `'${a}'`).join(', ');
}

/** One item of `assertions`, `lookups` or `steps`: a mapping holding exactly one action. */
function parseItem(
  reader: YamlReader,
  node: Node | null,
  path: string,
  what: string,
  actions: readonly Action[],
): StepAst | undefined {
  const keys: string[] = [...actions];
  const lookups = actions.some((a) => LOOKUPS.includes(a));
  if (lookups) keys.push('expect', 'conditional');
  if (lookups || actions.some((a) => CHECKS.includes(a))) keys.push(...CHECK_FACTS);
  const entries = reader.map(node, path, what, [...new Set(keys)]);
  if (entries === undefined) return undefined;
  // Beside a lookup, `conditional:` is the list of its conditional results, not a check.
  const hasLookup = entries.some((e) => e.key === 'resources' || e.key === 'subjects');
  const found = entries.filter(
    (e) => e.key !== 'expect' && !CHECK_FACTS.includes(e.key) && !(hasLookup && e.key === 'conditional'),
  );
  const located: Located = { position: reader.source.positionOf(node), path };
  if (found.length !== 1) {
    const message =
      found.length === 0
        ? `${what} needs one of ${describeActions(actions)}`
        : `${what} does one thing, but has ${found.map((e) => `'${e.key}'`).join(' and ')}; split it into separate items`;
    // A mapping whose only keys were unknown has already been reported with a did-you-mean.
    const resolved = reader.resolve(node);
    const onlyUnknownKeys = found.length === 0 && isMap(resolved) && resolved.items.length > entries.length;
    if (!onlyUnknownKeys) reader.report(node, path, message);
    return undefined;
  }
  const action = found[0]!;
  const expect = entries.find((e) => e.key === 'expect');
  const isLookup = action.key === 'resources' || action.key === 'subjects';
  if (expect !== undefined && !isLookup) {
    reader.report(
      expect.keyNode,
      expect.path,
      `'expect' belongs to a 'resources' or 'subjects' lookup, not to '${action.key}'`,
    );
  }
  switch (action.key) {
    case 'allowed':
    case 'denied':
    case 'conditional': {
      const check = reader.string(action.value, action.path, `'${action.key}'`);
      const facts = parseCheckFacts(reader, entries, action.key);
      if (check === undefined) return undefined;
      return facts === undefined
        ? { kind: action.key, check, ...located }
        : { kind: action.key, check, facts, ...located };
    }
    case 'resources':
    case 'subjects': {
      const query = reader.string(action.value, action.path, `'${action.key}'`);
      if (expect === undefined) {
        reader.report(
          node,
          path,
          `a '${action.key}' lookup needs 'expect', the exact list of results ([] for none)`,
        );
        return undefined;
      }
      const expected = reader.stringList(expect.value, expect.path, "'expect'");
      const conditionalEntry = entries.find((e) => e.key === 'conditional');
      const conditional =
        conditionalEntry === undefined
          ? undefined
          : reader.stringList(conditionalEntry.value, conditionalEntry.path, "'conditional'");
      const facts = parseCheckFacts(reader, entries, action.key);
      if (query === undefined) return undefined;
      return {
        kind: action.key,
        query,
        expect: expected,
        ...(conditional === undefined ? {} : { conditional }),
        ...(facts === undefined ? {} : { facts }),
        ...located,
      };
    }
    case 'write':
    case 'delete':
      return {
        kind: action.key,
        relationships: reader.stringList(action.value, action.path, `'${action.key}'`),
        ...located,
      };
    case 'delete_object': {
      const object = reader.string(action.value, action.path, "'delete_object'");
      return object === undefined ? undefined : { kind: 'delete_object', object, ...located };
    }
    default:
      return undefined;
  }
}

/** The `context`, `now`, `contextual_relationships` and `missing` of a check item, if any. */
function parseCheckFacts(
  reader: YamlReader,
  entries: readonly MapEntry[],
  action: string,
): CheckFactsAst | undefined {
  const get = (key: string): MapEntry | undefined => entries.find((e) => e.key === key);
  const context = get('context');
  const now = get('now');
  const contextual = get('contextual_relationships');
  const missing = get('missing');
  if (context === undefined && now === undefined && contextual === undefined && missing === undefined)
    return undefined;
  if (missing !== undefined && action !== 'conditional') {
    reader.report(
      missing.keyNode,
      missing.path,
      `'missing' belongs to a 'conditional' check, not to '${action}'`,
    );
  }
  let contextValue: CheckFactsAst['context'];
  if (context !== undefined) {
    const resolved = reader.resolve(context.value);
    if (isMap(resolved)) {
      contextValue = {
        value: resolved.toJSON() as Record<string, unknown>,
        position: reader.source.positionOf(context.value),
        path: context.path,
      };
    } else reader.report(context.value, context.path, "'context' is a mapping of condition parameter values");
  }
  return {
    context: contextValue,
    now: now === undefined ? undefined : reader.string(now.value, now.path, "'now'"),
    contextual:
      contextual === undefined
        ? undefined
        : reader.stringList(contextual.value, contextual.path, "'contextual_relationships'"),
    missing: missing === undefined ? undefined : reader.stringList(missing.value, missing.path, "'missing'"),
  };
}

function parseItems<T extends StepAst>(
  reader: YamlReader,
  entry: MapEntry | undefined,
  what: string,
  actions: readonly Action[],
): T[] {
  if (entry === undefined || reader.isNull(reader.resolve(entry.value))) return [];
  const out: T[] = [];
  for (const item of reader.list(entry.value, entry.path, `'${entry.key}'`) ?? []) {
    const parsed = parseItem(reader, item.node, item.path, what, actions);
    if (parsed !== undefined) out.push(parsed as T);
  }
  return out;
}

export function parseTestFile(reader: YamlReader, root: Node, all: readonly MapEntry[]): TestFileAst {
  const { entries, namespace } = fileInput(reader, root, all, 'test', [
    'name',
    'relationships',
    'assertions',
    'lookups',
    'steps',
  ]);
  const get = (key: string): MapEntry | undefined => entries.find((e) => e.key === key);
  const nameEntry = get('name');
  const name = nameEntry === undefined ? undefined : reader.string(nameEntry.value, nameEntry.path, "'name'");
  const fixtures = get('relationships');
  return {
    kind: 'test',
    path: reader.source.path,
    namespace,
    // Unnamed tests are reported under their file path, which is unique anyway.
    name: name?.text ?? reader.source.path,
    relationships:
      fixtures === undefined || reader.isNull(reader.resolve(fixtures.value))
        ? []
        : reader.stringList(fixtures.value, fixtures.path, "'relationships'"),
    assertions: parseItems<CheckAssertionAst>(reader, get('assertions'), 'an assertion', CHECKS),
    lookups: parseItems<LookupAst>(reader, get('lookups'), 'a lookup', LOOKUPS),
    steps: parseItems<StepAst>(reader, get('steps'), 'a step', STEPS),
  };
}
