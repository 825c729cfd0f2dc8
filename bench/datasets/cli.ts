// Writes a dataset to disk: its schema files and relationship YAML (a policy directory
// `gatehouse serve --policies` can load) and questions.json (sampled questions with their
// answers, for bench/k6/gatehouse.ts).
//   node --import tsx bench/datasets/cli.ts --dataset helpdesk --size S --out bench/out/helpdesk
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allowedShare, parseSize } from './dataset.js';
import { createDataset, DATASET_NAMES } from './index.js';
import { writeDatasetYaml } from './write-yaml.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'group-visibility' },
    size: { type: 'string', default: 'S' },
    seed: { type: 'string', default: '42' },
    questions: { type: 'string', default: '10000' },
    out: { type: 'string' },
  },
});
if (values.out === undefined) {
  process.stderr.write(
    `usage: bench/datasets/cli.ts --out DIR [--dataset ${DATASET_NAMES.join('|')}] [--size S|M|L|N] [--seed N] [--questions N]\n`,
  );
  process.exit(2);
}
const dataset = await createDataset(values.dataset, {
  relationships: parseSize(values.size),
  seed: Number(values.seed),
});
const written = await writeDatasetYaml(dataset, values.out);
const questions = dataset.sampleChecks(Number(values.questions));
writeFileSync(join(values.out, 'questions.json'), `${JSON.stringify(questions)}\n`);
process.stdout.write(
  `${values.out}: ${written} relationships of ${dataset.name}, ${questions.length} questions (${Math.round(allowedShare(questions) * 100)}% allowed)\n`,
);
