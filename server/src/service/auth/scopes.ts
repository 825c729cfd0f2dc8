// The token scopes and the one table saying which scope each API operation needs.

/** What a bearer token may do; see docs/security.md for what each grants. */
export const SCOPES = ['check', 'read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Every API operation, by its gRPC method name (the HTTP routes carry the same names). */
export type Operation =
  | 'Check'
  | 'CheckBatch'
  | 'LookupResources'
  | 'LookupSubjects'
  | 'Explain'
  | 'ReadSchema'
  | 'ReadRelationships'
  | 'Watch'
  | 'WriteRelationships'
  | 'DeleteRelationships'
  | 'DeleteObject'
  | 'ValidatePolicies'
  | 'ReloadPolicies';

/**
 * The scope each operation requires. `read` covers everything that discloses the stored graph
 * or the schema beyond one yes/no answer; `admin` covers policy administration.
 */
export const OPERATION_SCOPE: Readonly<Record<Operation, Scope>> = {
  Check: 'check',
  CheckBatch: 'check',
  LookupResources: 'read',
  LookupSubjects: 'read',
  Explain: 'read',
  ReadSchema: 'read',
  ReadRelationships: 'read',
  Watch: 'read',
  WriteRelationships: 'write',
  DeleteRelationships: 'write',
  DeleteObject: 'write',
  ValidatePolicies: 'admin',
  ReloadPolicies: 'admin',
};

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/**
 * A list of scopes from `check,read` or `check read` text (flags, env, token files); returns a
 * problem sentence instead of throwing, so callers can collect every problem.
 */
export function parseScopeList(text: string): Scope[] | string {
  const scopes: Scope[] = [];
  for (const word of text.split(/[\s,]+/).filter((w) => w !== '')) {
    if (!isScope(word)) return `unknown scope '${word}' (scopes are ${SCOPES.join(', ')})`;
    if (!scopes.includes(word)) scopes.push(word);
  }
  return scopes;
}
