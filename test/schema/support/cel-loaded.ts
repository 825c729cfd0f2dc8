// Child process for cel-lazy-load.test.ts: imports everything `gatehouse serve` imports, loads a
// policy directory (schema compiled, relationships validated), then prints whether the CEL
// library was loaded on the way ("cel loaded" / "cel not loaded").
import { createRequire } from 'node:module';
import '../../../server/src/cli/serve.js';
import { loadPolicySet, policyRelationshipChunks } from '../../../server/src/policy/index.js';
import { MemoryStore } from '../../../server/src/store/index.js';

const set = await loadPolicySet(process.argv[2]!);
await MemoryStore.withRelationshipChunks(policyRelationshipChunks(set));
const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) =>
  path.includes('@bufbuild/cel'),
);
process.stdout.write(loaded ? 'cel loaded\n' : 'cel not loaded\n');
