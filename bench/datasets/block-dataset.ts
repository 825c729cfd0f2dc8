// Builds a Dataset from independent blocks (one portal, one tenant, one account...): each block
// is regenerated from (seed, index) on demand, so 10M relationships never sit in memory at once
// and a question is answered by the model of the one block it is about.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnsweredQuestion, Dataset, DatasetOptions } from './dataset.js';
import { createRandom, type Random } from './random.js';

export const POLICIES_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));

/** One self-contained slice of a dataset and the model that answers questions about it. */
export interface Block {
  /** Fully namespaced relationship strings. */
  readonly relationships: readonly string[];
  /** A random question about this block (allowed or denied), answered by the block's model. */
  question(random: Random): AnsweredQuestion;
}

export interface BlockModel {
  readonly name: string;
  readonly namespace: string;
  /** Directory under policies/ whose `kind: schema` files define the types. */
  readonly policyDir: string;
  /** Rough relationships per block, to size the block count. */
  readonly relationshipsPerBlock: number;
  /** Deterministic in `random` (seeded from the dataset seed and `index`). */
  buildBlock(random: Random, index: number): Block;
}

/** Every `kind: schema` file of a policy directory, keyed by file name. */
export function readSchemaFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    if (/^kind:\s*schema\s*$/m.test(text)) files.set(name, text);
  }
  if (files.size === 0)
    throw new Error(`no 'kind: schema' file in ${dir}: the dataset has no schema to load`);
  return files;
}

const QUESTION_BLOCKS = 64;

export function blockDataset(model: BlockModel, options: DatasetOptions): Dataset {
  const blockCount = Math.max(1, Math.round(options.relationships / model.relationshipsPerBlock));
  const block = (i: number): Block => model.buildBlock(createRandom(options.seed, i), i);
  let count: number | undefined;

  function* relationships(): Iterable<string> {
    for (let i = 0; i < blockCount; i++) yield* block(i).relationships;
  }

  return {
    name: model.name,
    namespace: model.namespace,
    schemaFiles: readSchemaFiles(join(POLICIES_DIR, model.policyDir)),
    get relationshipCount(): number {
      if (count === undefined) {
        count = 0;
        for (let i = 0; i < blockCount; i++) count += block(i).relationships.length;
      }
      return count;
    },
    relationships,
    sampleChecks(n, sampleOptions = {}): AnsweredQuestion[] {
      const random = createRandom(sampleOptions.seed ?? options.seed, 0x5eed);
      const wantAllowed = Math.round(n * (sampleOptions.allowedFraction ?? 0.5));
      // Questions come from a bounded set of blocks so sampling stays cheap at any size.
      const blocks = random
        .sample(
          Array.from({ length: Math.min(blockCount, QUESTION_BLOCKS) }, (_, k) =>
            Math.floor((k * blockCount) / Math.min(blockCount, QUESTION_BLOCKS)),
          ),
          QUESTION_BLOCKS,
        )
        .map(block);
      const allowed: AnsweredQuestion[] = [];
      const denied: AnsweredQuestion[] = [];
      const fallback: AnsweredQuestion[] = [];
      for (let attempt = 0; attempt < n * 50 && allowed.length + denied.length < n; attempt++) {
        const q = random.pick(blocks).question(random);
        if (q.expected ? allowed.length < wantAllowed : denied.length < n - wantAllowed) {
          (q.expected ? allowed : denied).push(q);
        } else if (fallback.length < n) {
          fallback.push(q);
        }
      }
      const chosen = [...allowed, ...denied, ...fallback].slice(0, n);
      // Interleave so any prefix (a short run) sees the same mix.
      return random.sample(chosen, chosen.length);
    },
  };
}
