// The "group visibility" benchmark dataset: users in 1-3 of G groups, groups nested up to four
// levels deep, documents visible to everyone, private to their owner, or shared with 1-3
// groups, and org admins who see everything. Seeded and regenerated per entity on demand, so
// 10M relationships stream out without being held in memory and every answer is known.
import type { CheckRequest } from '../../server/src/engine/types.js';
import type { Relationship } from '../../server/src/model/relationship.js';
import { formatRelationship } from '../../server/src/model/relationship.js';
import type { AllowedSubject, Expr, ObjectTypeDef, Schema } from '../../server/src/schema/schema.js';
import { createRandom } from './random.js';

export interface GroupVisibilityOptions {
  /** Approximate number of relationships (10k, 1M, 10M...). */
  readonly relationships: number;
  readonly seed: number;
}

/** A check question and the answer the generator's own model gives. */
export type AnsweredCheck = CheckRequest & { readonly expected: boolean };

/** What one document is visible to. */
export interface DocumentSpec {
  readonly owner: string;
  readonly everyone: boolean;
  readonly groups: readonly string[];
}

export interface GroupVisibilityDataset {
  readonly schema: Schema;
  /** The same schema as a `kind: schema` policy file. */
  readonly schemaYaml: string;
  readonly users: number;
  readonly groups: number;
  readonly documents: number;
  readonly admins: number;
  /** Exact count of what `relationships()` yields (computed by generating them once). */
  readonly relationshipCount: number;
  /** Every relationship exactly once, in a fixed order, regenerated on each call. */
  relationships(): Iterable<Relationship>;
  /** The same, as `resource#relation@subject` strings. */
  relationshipStrings(): Iterable<string>;
  /** `n` reproducible `document#view@user` questions; `allowedFraction` (default 0.5) of them allowed. */
  sampleChecks(
    n: number,
    options?: { readonly allowedFraction?: number; readonly seed?: number },
  ): AnsweredCheck[];
  /** The model's answer: may `user` view `document`? */
  canView(userId: string, documentId: string): boolean;
  userGroups(userIndex: number): readonly string[];
  groupParents(groupIndex: number): readonly string[];
  document(documentIndex: number): DocumentSpec;
  isAdmin(userIndex: number): boolean;
}

export const GROUP_VISIBILITY_SCHEMA_YAML = `kind: schema
types:
  user: {}
  org:
    relations:
      admin: user
  group:
    relations:
      member: user or group#member
  document:
    relations:
      org: org
      owner: user
      viewer: user:* or group#member
    permissions:
      view: owner or viewer or org->admin
`;

const plain = (type: string): AllowedSubject => ({ type, wildcard: false });

/** The compiled form of GROUP_VISIBILITY_SCHEMA_YAML, built directly (no parser needed). */
export function groupVisibilitySchema(): Schema {
  const ref = (name: string): Expr => ({ op: 'ref', name, target: 'relation' });
  const type = (
    name: string,
    relations: [string, AllowedSubject[]][],
    permissions: [string, Expr][] = [],
  ): ObjectTypeDef => ({
    name,
    relations: new Map(relations.map(([n, allowed]) => [n, { kind: 'relation', name: n, allowed }])),
    permissions: new Map(permissions.map(([n, expr]) => [n, { kind: 'permission', name: n, expr }])),
  });
  const types: ObjectTypeDef[] = [
    type('user', []),
    type('org', [['admin', [plain('user')]]]),
    type('group', [['member', [plain('user'), { type: 'group', relation: 'member', wildcard: false }]]]),
    type(
      'document',
      [
        ['org', [plain('org')]],
        ['owner', [plain('user')]],
        [
          'viewer',
          [
            { type: 'user', wildcard: true },
            { type: 'group', relation: 'member', wildcard: false },
          ],
        ],
      ],
      [
        [
          'view',
          {
            op: 'union',
            operands: [ref('owner'), ref('viewer'), { op: 'arrow', via: 'org', name: 'admin' }],
          },
        ],
      ],
    ),
  ];
  return { types: new Map(types.map((t) => [t.name, t])), hash: 'bench-group-visibility-v1' };
}

const ORG = 'acme';
/** Share of groups on each nesting level, top (0) to bottom (3): depth is at most four. */
const LEVEL_SHARES = [0.1, 0.2, 0.3, 0.4];
const PUBLIC_SHARE = 0.05;
const MAX_PUBLIC = 5_000;
const PRIVATE_SHARE = 0.3;

// Per-entity random streams, so any user, group or document is regenerated alone.
const USER_STREAM = 0;
const GROUP_STREAM = 1;
const DOC_STREAM = 2;
const stream = (kind: number, index: number): number => index * 3 + kind;

export function generateGroupVisibility(options: GroupVisibilityOptions): GroupVisibilityDataset {
  const n = Math.max(100, Math.round(options.relationships));
  const seed = options.seed;
  // Per document: org + owner + ~1.2 sharing edges (+ a public edge for a few); per user: ~2 groups.
  const users = Math.max(4, Math.round(n / 10));
  const groups = Math.max(8, Math.round(n / 1000));
  const documents = Math.max(4, Math.round((n - 2 * users - groups) / 3.25));
  const admins = Math.max(1, Math.round(users / 20_000));
  const publicShare = Math.min(PUBLIC_SHARE, MAX_PUBLIC / documents);

  const levelStart: number[] = [];
  let acc = 0;
  for (const share of LEVEL_SHARES) {
    levelStart.push(acc);
    acc += Math.max(1, Math.round(groups * share));
  }
  const levelOf = (g: number): number => {
    let level = 0;
    while (level + 1 < levelStart.length && g >= levelStart[level + 1]!) level++;
    return level;
  };
  const levelSize = (level: number): number =>
    (level + 1 < levelStart.length ? levelStart[level + 1]! : groups) - levelStart[level]!;

  const groupName = (g: number): string => `g${g}`;
  const userGroupIndexes = (u: number): number[] => {
    const random = createRandom(seed, stream(USER_STREAM, u));
    const count = random.between(1, 3);
    const picked = new Set<number>();
    while (picked.size < count) picked.add(random.int(groups));
    return [...picked];
  };
  const parentIndexes = (g: number): number[] => {
    const level = levelOf(g);
    if (level === 0) return [];
    const random = createRandom(seed, stream(GROUP_STREAM, g));
    const above = levelStart[level - 1]!;
    const size = levelSize(level - 1);
    const first = above + random.int(size);
    // One group in ten also nests in a second parent: the graph is a DAG, not a tree.
    if (!random.chance(0.1) || size < 2) return [first];
    let second = above + random.int(size);
    while (second === first) second = above + random.int(size);
    return [first, second];
  };
  const documentSpec = (d: number): DocumentSpec => {
    const random = createRandom(seed, stream(DOC_STREAM, d));
    const owner = `u${random.int(users)}`;
    const roll = random.next();
    if (roll < publicShare) return { owner, everyone: true, groups: [] };
    if (roll < publicShare + PRIVATE_SHARE) return { owner, everyone: false, groups: [] };
    const count = random.between(1, 3);
    const picked = new Set<number>();
    while (picked.size < count) picked.add(random.int(groups));
    return { owner, everyone: false, groups: [...picked].map(groupName) };
  };
  const userIndex = (id: string): number => Number(id.slice(1));
  const isAdmin = (u: number): boolean => u < admins;

  function* relationships(): Iterable<Relationship> {
    for (let u = 0; u < admins; u++) {
      yield { resource: { type: 'org', id: ORG }, relation: 'admin', subject: { type: 'user', id: `u${u}` } };
    }
    for (let g = 0; g < groups; g++) {
      for (const p of parentIndexes(g)) {
        yield {
          resource: { type: 'group', id: groupName(p) },
          relation: 'member',
          subject: { type: 'group', id: groupName(g), relation: 'member' },
        };
      }
    }
    for (let u = 0; u < users; u++) {
      for (const g of userGroupIndexes(u)) {
        yield {
          resource: { type: 'group', id: groupName(g) },
          relation: 'member',
          subject: { type: 'user', id: `u${u}` },
        };
      }
    }
    for (let d = 0; d < documents; d++) {
      const resource = { type: 'document', id: `d${d}` };
      const spec = documentSpec(d);
      yield { resource, relation: 'org', subject: { type: 'org', id: ORG } };
      yield { resource, relation: 'owner', subject: { type: 'user', id: spec.owner } };
      if (spec.everyone) yield { resource, relation: 'viewer', subject: { type: 'user', id: '*' } };
      for (const g of spec.groups) {
        yield { resource, relation: 'viewer', subject: { type: 'group', id: g, relation: 'member' } };
      }
    }
  }

  const transitiveGroups = (u: number): Set<string> => {
    const seen = new Set<number>();
    const stack = userGroupIndexes(u);
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      stack.push(...parentIndexes(g));
    }
    return new Set([...seen].map(groupName));
  };
  const canView = (userId: string, documentId: string): boolean => {
    const u = userIndex(userId);
    const spec = documentSpec(Number(documentId.slice(1)));
    if (isAdmin(u) || spec.everyone || spec.owner === userId) return true;
    if (spec.groups.length === 0) return false;
    const mine = transitiveGroups(u);
    return spec.groups.some((g) => mine.has(g));
  };

  let count: number | undefined;
  return {
    schema: groupVisibilitySchema(),
    schemaYaml: GROUP_VISIBILITY_SCHEMA_YAML,
    users,
    groups,
    documents,
    admins,
    get relationshipCount(): number {
      if (count === undefined) {
        count = 0;
        for (const _ of relationships()) count++;
      }
      return count;
    },
    relationships,
    *relationshipStrings(): Iterable<string> {
      for (const r of relationships()) yield formatRelationship(r);
    },
    sampleChecks(total, sampleOptions = {}): AnsweredCheck[] {
      const random = createRandom(sampleOptions.seed ?? seed, 0x5eed);
      const wantAllowed = Math.round(total * (sampleOptions.allowedFraction ?? 0.5));
      const allowed: AnsweredCheck[] = [];
      const denied: AnsweredCheck[] = [];
      const ask = (u: number, d: number, expected: boolean): AnsweredCheck => ({
        resource: { type: 'document', id: `d${d}` },
        permission: 'view',
        subject: { type: 'user', id: `u${u}` },
        expected,
      });
      // Allowed answers are rare among random pairs: mix in owners (direct) and admins (arrow),
      // and find the group and everyone paths by rejection sampling from each user's groups.
      for (
        let attempts = 0;
        attempts < total * 400 && (allowed.length < wantAllowed || denied.length < total - wantAllowed);
        attempts++
      ) {
        const d = random.int(documents);
        const kind = random.next();
        if (kind < 0.1 && allowed.length < wantAllowed) {
          allowed.push(ask(userIndex(documentSpec(d).owner), d, true));
          continue;
        }
        if (kind < 0.12 && allowed.length < wantAllowed) {
          allowed.push(ask(random.int(admins), d, true));
          continue;
        }
        const u = admins + random.int(users - admins);
        const expected = canView(`u${u}`, `d${d}`);
        if (expected && allowed.length < wantAllowed) allowed.push(ask(u, d, true));
        else if (!expected && denied.length < total - wantAllowed) denied.push(ask(u, d, false));
      }
      const questions = [...allowed, ...denied];
      for (let i = questions.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        [questions[i], questions[j]] = [questions[j]!, questions[i]!];
      }
      return questions;
    },
    canView,
    userGroups: (u) => userGroupIndexes(u).map(groupName),
    groupParents: (g) => parentIndexes(g).map(groupName),
    document: documentSpec,
    isAdmin,
  };
}
