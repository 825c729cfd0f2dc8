// Child process for relationship-file.test.ts: loads a policy directory's relationships into a
// memory store the way `gatehouse serve` does (streamed, in chunks) and prints the count, or
// prints the policy problems (file:line:column: message) and exits 1.
import { formatPolicyProblem, PolicyError } from '../../../server/src/errors.js';
import { loadPolicySet, policyRelationshipChunks } from '../../../server/src/policy/index.js';
import { MemoryStore } from '../../../server/src/store/index.js';

const dir = process.argv[2]!;
try {
  const set = await loadPolicySet(dir);
  const store = await MemoryStore.withRelationshipChunks(policyRelationshipChunks(set));
  process.stdout.write(`loaded ${store.size}\n`);
} catch (err) {
  if (!(err instanceof PolicyError)) throw err;
  for (const p of err.problems) process.stdout.write(`${formatPolicyProblem(p)}\n`);
  process.exitCode = 1;
}
