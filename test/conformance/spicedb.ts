// Runs SpiceDB's integration validation files through `gatehouse import`: each file's schema,
// relationships and assertions (assertTrue / assertFalse, and the subjects its `validation`
// block lists) become a policy set, whose assertions the engine answers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { importSpiceDb, parseSpiceDbValidationFile } from '../../server/src/interop/import.js';
import type { ImportedAssertion, PolicyFileText } from '../../server/src/interop/render.js';
import { parseCheckTuple } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import type { PolicySet } from '../../server/src/policy/policy-set.js';
import type { RunOptions } from './openfga.js';
import type { AssertionResult } from './tally.js';

function schemaFeatures(text: string): string[] {
  const schema = /schema:([\s\S]*?)\n(?:relationships|assertions|validation):/.exec(text)?.[1] ?? text;
  const f = new Set<string>();
  if (/->|\.any\(/.test(schema)) f.add('arrow');
  if (/\.all\(/.test(schema)) f.add('all-arrow');
  if (/\+/.test(schema)) f.add('union');
  if (/&/.test(schema)) f.add('intersection');
  if (/ - /.test(schema)) f.add('exclusion');
  if (/:\*/.test(schema)) f.add('wildcard');
  if (/relation [^\n]*#/.test(schema)) f.add('subject set');
  if (/\bnil\b/.test(schema)) f.add('nil');
  if (/\bcaveat\b/.test(schema)) f.add('caveat');
  if (/\bexpiration\b/.test(schema)) f.add('expiration');
  return [...f];
}

/**
 * The `validation` entries naming a wildcard (`[user:*]`, `[user:* - {user:x}]`) in the suite's
 * files: the importer turns only plain subjects into assertions. The suite has none today (its
 * only `validation` blocks are empty); docs/conformance.md says so, and the test pins it.
 */
export function wildcardValidationEntries(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const expected = parseSpiceDbValidationFile(readFileSync(join(dir, name), 'utf8')).expected;
    for (const [resource, subjects] of expected) {
      for (const s of subjects) if (s.includes(':*')) out.push(`${name}: ${resource}: [${s}]`);
    }
  }
  return out;
}

export function runSpiceDbSuite(dir: string, options: RunOptions = {}): AssertionResult[] {
  const results: AssertionResult[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const text = readFileSync(join(dir, name), 'utf8');
    const features = schemaFeatures(text);
    const count = (text.match(/^\s+- ["']?[a-z]/gm) ?? []).length;
    const notImportable = (detail: string): void => {
      results.push({
        suite: 'spicedb',
        test: name,
        what: `${count} assertions`,
        outcome: 'not importable',
        features,
        detail,
      });
    };
    let files: PolicyFileText[];
    let assertions: readonly ImportedAssertion[];
    try {
      const imported = importSpiceDb(text, name, true);
      if (imported.unsupported.length > 0) {
        notImportable([...new Set(imported.unsupported.map((u) => u.feature))].join(', '));
        continue;
      }
      files = imported.files;
      assertions = imported.assertions;
    } catch (err) {
      notImportable((err as Error).message);
      continue;
    }
    if (options.dropOneTuplePerStage === true) {
      files = files.map((f) =>
        f.path === 'relationships.yaml' ? { ...f, content: f.content.replace(/\n {2}- [^\n]*/, '') } : f,
      );
    }
    let set: PolicySet;
    try {
      set = compilePolicySet(files);
    } catch (err) {
      results.push({
        suite: 'spicedb',
        test: name,
        what: 'import',
        outcome: 'failed',
        features,
        detail: (err as Error).message,
      });
      continue;
    }
    results.push({
      suite: 'spicedb',
      test: name,
      what: 'import: the policy set compiles',
      outcome: 'passed',
      features,
    });
    const graph = GraphIndex.build(
      set.schema,
      set.relationships.map((r) => r.relationship),
      1,
    );
    const engine = createEngine(set.schema, graph);
    // Three answers, as SpiceDB gives them: assertFalse is NO_PERMISSION, not a caveated answer.
    for (const a of assertions) {
      let outcome: AssertionResult['outcome'];
      let detail: string;
      try {
        const check = parseCheckTuple(a.check);
        const d = engine.decide({
          resource: check.resource,
          permission: check.permission,
          subject: check.subject,
          context: a.context,
        });
        const want = a.kind === 'allowed' ? 'allowed' : a.kind === 'denied' ? 'denied' : 'conditional';
        outcome = d.permissionship === want ? 'passed' : 'failed';
        detail = `got ${d.permissionship}`;
      } catch (err) {
        outcome = 'failed';
        detail = (err as Error).message;
      }
      const shown = a.context === undefined ? a.check : `${a.check} with ${JSON.stringify(a.context)}`;
      results.push({
        suite: 'spicedb',
        test: name,
        what: `${a.kind} ${shown}`,
        outcome,
        features,
        detail,
      });
    }
  }
  return results;
}
