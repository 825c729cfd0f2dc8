// Presents the engine bench's group-visibility generator (group-visibility.ts) as a bench
// Dataset: relationship strings, harness questions, and the plain facts the peers are handed.

import type { DocumentFacts, VisibilityFacts } from '../peers/visibility-facts.js';
import type { AnsweredQuestion, Dataset, DatasetOptions } from './dataset.js';
import { type AnsweredCheck, generateGroupVisibility } from './group-visibility.js';

function toQuestion(c: AnsweredCheck): AnsweredQuestion {
  return {
    resourceType: c.resource.type,
    resourceId: c.resource.id,
    permission: c.permission,
    subjectType: c.subject.type,
    subjectId: c.subject.id,
    subjectRelation: c.subject.relation,
    expected: c.expected,
  };
}

export function groupVisibilityDataset(options: DatasetOptions): Dataset {
  const gv = generateGroupVisibility(options);
  let facts: VisibilityFacts | undefined;
  return {
    name: 'group-visibility',
    namespace: '',
    schemaFiles: new Map([['schema.yaml', gv.schemaYaml]]),
    get relationshipCount(): number {
      return gv.relationshipCount;
    },
    relationships: () => gv.relationshipStrings(),
    sampleChecks: (n, sampleOptions) => gv.sampleChecks(n, sampleOptions).map(toQuestion),
    visibilityFacts(): VisibilityFacts {
      if (facts === undefined) {
        const userGroups = new Map<string, readonly string[]>();
        const admins = new Set<string>();
        const users: string[] = [];
        for (let u = 0; u < gv.users; u++) {
          users.push(`u${u}`);
          userGroups.set(`u${u}`, gv.userGroups(u));
          if (gv.isAdmin(u)) admins.add(`u${u}`);
        }
        const groupParents = new Map<string, readonly string[]>();
        for (let g = 0; g < gv.groups; g++) groupParents.set(`g${g}`, gv.groupParents(g));
        const documents = new Map<string, DocumentFacts>();
        for (let d = 0; d < gv.documents; d++) documents.set(`d${d}`, gv.document(d));
        facts = { users, admins, userGroups, groupParents, documents };
      }
      return facts;
    },
  };
}
