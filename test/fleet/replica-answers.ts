// Every check a replica answers over the arbitrary scenarios' documents, with its revision and
// size: two replicas that should agree are compared by this one list.
import type { GraphReplica } from '../../server/src/service/graph-replica.js';
import { DOC_PERMISSIONS, ID_POOLS } from '../engine/arbitraries.js';

export function replicaAnswers(replica: GraphReplica): unknown[] {
  const out: unknown[] = [replica.revision, replica.relationshipCount];
  for (const id of [...ID_POOLS.doc!, 'none']) {
    for (const permission of DOC_PERMISSIONS) {
      for (const user of ['u0', 'u1', 'u2']) {
        out.push(
          replica.engine.check({
            resource: { type: 'doc', id },
            permission,
            subject: { type: 'user', id: user },
          }),
        );
      }
    }
  }
  return out;
}
