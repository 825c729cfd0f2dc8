// Helpers shared by the multi-replica suites: SDK clients per replica, relationship strings, and
// revision numbers read out of tokens (test-only: tokens are opaque to real callers).
import type { GatehouseProcess } from '../e2e/support/gatehouse-process.js';
import { TOKEN } from '../e2e/support/gatehouse-process.js';
import { createHttpTransport, GatehouseClient } from '../e2e/support/sdk.js';

export function clientFor(
  replica: GatehouseProcess,
  options?: ConstructorParameters<typeof GatehouseClient>[1],
): GatehouseClient {
  return new GatehouseClient(
    createHttpTransport({ baseUrl: `http://${replica.http}`, token: TOKEN }),
    options,
  );
}

interface Rel {
  readonly resource: { readonly type: string; readonly id: string };
  readonly relation: string;
  readonly subject: { readonly type: string; readonly id: string; readonly relation?: string | undefined };
}

export function relString(r: Rel): string {
  const subjectRelation = r.subject.relation ? `#${r.subject.relation}` : '';
  return `${r.resource.type}:${r.resource.id}#${r.relation}@${r.subject.type}:${r.subject.id}${subjectRelation}`;
}

/** The revision a `GH2.<store>.<epoch>.<base36 revision>.<check>` token names. */
export function tokenRevision(token: string): number {
  const parts = token.split('.');
  if (parts.length !== 5) throw new Error(`not a GH2 token: ${token}`);
  return Number.parseInt(parts[3]!, 36);
}

/** The epoch a token names. */
export function tokenEpoch(token: string): string {
  return token.split('.')[2] ?? '';
}

/** Every relationship of `resourceType` as strings, sorted, read fully consistent through `client`. */
export async function readAll(
  client: GatehouseClient,
  resourceType: string,
  resourceId?: string,
): Promise<string[]> {
  const out: string[] = [];
  for await (const r of client.read(
    { filter: { resourceType, resourceId } },
    { consistency: 'fully-consistent' },
  )) {
    out.push(relString(r));
  }
  return out.sort();
}
