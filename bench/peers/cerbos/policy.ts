// The Cerbos side of the group-visibility rules: a resource policy in CEL, the server config
// (disk store, loopback only, audit off), and the request each question becomes. Cerbos has no
// group graph, so every request carries the principal's transitive group set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Question } from '../../harness/types.js';
import { groupSetCache, type VisibilityFacts } from '../visibility-facts.js';

export const RESOURCE_POLICY = `# Group visibility, as in bench/datasets/group-visibility: admins see every document; others
# see documents visible to everyone, their own, or shared with a group they are in
# (request.principal.attr.groups is the transitive set, computed by the caller).
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: document
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["admin"]
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          any:
            of:
              - expr: request.resource.attr.everyone == true
              - expr: request.resource.attr.owner == request.principal.id
              - expr: hasIntersection(request.resource.attr.groups, request.principal.attr.groups)
`;

/** Write `dir/policies/document.yaml` and `dir/config.yaml`; returns the config path. */
export function writeCerbosFiles(dir: string, http: string, grpc: string): string {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'document.yaml'), RESOURCE_POLICY);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'server:',
      `  httpListenAddr: "${http}"`,
      `  grpcListenAddr: "${grpc}"`,
      'storage:',
      '  driver: disk',
      '  disk:',
      `    directory: "${join(dir, 'policies')}"`,
      '    watchForChanges: false',
      'audit:',
      '  enabled: false',
      'telemetry:',
      '  disabled: true',
      '',
    ].join('\n'),
  );
  return config;
}

export interface CerbosPayloads {
  /** CheckResources bodies in proto3 JSON, one per question. */
  readonly http: unknown[];
  /** The same requests as proto-loader objects (google.protobuf.Value spelled out). */
  readonly grpc: unknown[];
}

type Attr = string | boolean | string[];

function toValue(v: Attr): unknown {
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'string') return { stringValue: v };
  return { listValue: { values: v.map((s) => ({ stringValue: s })) } };
}

function toValues(attrs: Record<string, Attr>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, toValue(v)]));
}

/** The CheckResources request for each question, in both encodings. */
export function cerbosPayloads(facts: VisibilityFacts, questions: readonly Question[]): CerbosPayloads {
  const groupsOf = groupSetCache(facts);
  const http: unknown[] = [];
  const grpc: unknown[] = [];
  for (const q of questions) {
    const doc = facts.documents.get(q.resourceId);
    const principalAttr: Record<string, Attr> = { groups: [...groupsOf(q.subjectId)] };
    const resourceAttr: Record<string, Attr> = {
      everyone: doc?.everyone ?? false,
      owner: doc?.owner ?? '',
      groups: [...(doc?.groups ?? [])],
    };
    const roles = [facts.admins.has(q.subjectId) ? 'admin' : 'user'];
    const principal = { id: q.subjectId, roles };
    const resource = { kind: 'document', id: q.resourceId };
    http.push({
      principal: { ...principal, attr: principalAttr },
      resources: [{ actions: ['view'], resource: { ...resource, attr: resourceAttr } }],
    });
    grpc.push({
      principal: { ...principal, attr: toValues(principalAttr) },
      resources: [{ actions: ['view'], resource: { ...resource, attr: toValues(resourceAttr) } }],
    });
  }
  return { http, grpc };
}
