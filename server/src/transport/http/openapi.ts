// The OpenAPI 3.1 description of the HTTP/JSON API, served at /openapi.json. Hand-written to
// mirror gatehouse.proto; a test asserts every route the app serves appears here.

import { authzenOpenApiPaths } from './authzen-openapi.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema =>
  description === undefined ? { type: 'string' } : { type: 'string', description };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema =>
  required.length === 0 ? { type: 'object', properties } : { type: 'object', properties, required };

const PERMISSIONSHIP: Schema = {
  type: 'string',
  enum: [
    'PERMISSIONSHIP_UNSPECIFIED',
    'PERMISSIONSHIP_NO_PERMISSION',
    'PERMISSIONSHIP_HAS_PERMISSION',
    'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
  ],
  description:
    'CONDITIONAL_PERMISSION: granted if a condition holds whose parameters the context did not all supply (named in missingContext).',
};

/** google.protobuf.Struct in proto3 JSON: any JSON object. */
const CONTEXT: Schema = {
  type: 'object',
  additionalProperties: true,
  description: 'Condition parameter values by name (a JSON object), e.g. {"ip": "10.0.0.7"}',
};
const MISSING_CONTEXT: Schema = {
  ...arr(str()),
  description: 'With CONDITIONAL_PERMISSION: the context parameters the answer needs',
};
/** `context` and `contextualRelationships`, on checks, batch items, lookups and explain. */
const REQUEST_CONTEXT: Record<string, Schema> = {
  context: CONTEXT,
  contextualRelationships: {
    ...arr(ref('Relationship')),
    description: 'Relationships that hold for this request only: validated like a write, never stored',
  },
};
const CONDITIONAL_RESULTS: Schema = arr(ref('ConditionalResult'));

const schemas: Record<string, Schema> = {
  ObjectReference: obj(
    { objectType: str('Type name, possibly namespaced: team_crm/contact'), objectId: str() },
    ['objectType', 'objectId'],
  ),
  SubjectReference: obj(
    { object: ref('ObjectReference'), optionalRelation: str('Set for a subject set such as group:g#member') },
    ['object'],
  ),
  RelationshipCondition: obj({ name: str('A condition declared in the schema'), context: CONTEXT }, ['name']),
  Relationship: obj(
    {
      resource: ref('ObjectReference'),
      relation: str(),
      subject: ref('SubjectReference'),
      optionalCondition: ref('RelationshipCondition'),
      optionalExpiresAt: {
        type: 'string',
        format: 'date-time',
        description: 'RFC 3339; the relationship stops granting at this instant',
      },
    },
    ['resource', 'relation', 'subject'],
  ),
  ConditionalResult: obj({ objectId: str(), missingContext: arr(str()) }, ['objectId', 'missingContext']),
  ZedToken: obj({ token: str('Opaque revision token') }, ['token']),
  Consistency: {
    description: 'Exactly one member; absent means minimizeLatency.',
    oneOf: [
      obj({ minimizeLatency: { type: 'boolean' } }, ['minimizeLatency']),
      obj({ atLeastAsFresh: ref('ZedToken') }, ['atLeastAsFresh']),
      obj({ fullyConsistent: { type: 'boolean' } }, ['fullyConsistent']),
    ],
  },
  Permissionship: PERMISSIONSHIP,
  ErrorDetail: obj(
    {
      code: str('Canonical code, e.g. INVALID_ARGUMENT'),
      message: str(),
      field: str('Request field at fault'),
    },
    ['code', 'message'],
  ),
  Error: obj({ error: ref('ErrorDetail') }, ['error']),
  CheckRequest: obj(
    {
      consistency: ref('Consistency'),
      resource: ref('ObjectReference'),
      permission: str(),
      subject: ref('SubjectReference'),
      ...REQUEST_CONTEXT,
    },
    ['resource', 'permission', 'subject'],
  ),
  CheckResponse: obj({
    permissionship: PERMISSIONSHIP,
    checkedAt: ref('ZedToken'),
    missingContext: MISSING_CONTEXT,
  }),
  CheckBatchRequest: obj({
    consistency: ref('Consistency'),
    items: arr(
      obj({
        resource: ref('ObjectReference'),
        permission: str(),
        subject: ref('SubjectReference'),
        ...REQUEST_CONTEXT,
      }),
    ),
  }),
  CheckBatchResponse: obj({
    results: arr({
      oneOf: [
        obj({ permissionship: PERMISSIONSHIP, missingContext: MISSING_CONTEXT }, ['permissionship']),
        obj({ error: ref('ErrorDetail') }, ['error']),
      ],
    }),
    checkedAt: ref('ZedToken'),
  }),
  LookupResourcesRequest: obj({
    consistency: ref('Consistency'),
    resourceObjectType: str(),
    permission: str(),
    subject: ref('SubjectReference'),
    pageSize: { type: 'integer', minimum: 0, description: '0: the server maximum; larger values are capped' },
    cursor: str('nextCursor of the previous page'),
    ...REQUEST_CONTEXT,
  }),
  LookupResourcesResponse: obj({
    resourceObjectIds: arr(str()),
    conditionalResources: CONDITIONAL_RESULTS,
    nextCursor: str('Absent on the last page'),
    lookedUpAt: ref('ZedToken'),
  }),
  LookupSubjectsRequest: obj({
    consistency: ref('Consistency'),
    resource: ref('ObjectReference'),
    permission: str(),
    subjectObjectType: str(),
    optionalSubjectRelation: str(),
    ...REQUEST_CONTEXT,
  }),
  LookupSubjectsResponse: obj({
    subjectObjectIds: arr(str()),
    wildcard: { type: 'boolean' },
    excludedSubjectIds: arr(str()),
    conditionalSubjects: CONDITIONAL_RESULTS,
    lookedUpAt: ref('ZedToken'),
  }),
  ExplainNode: obj({
    kind: str('permission, relation, arrow, union, intersection, exclusion, direct or cycle'),
    object: str(),
    label: str(),
    result: { type: 'boolean' },
    children: arr(ref('ExplainNode')),
    conditional: {
      type: 'boolean',
      description: 'True when this node is conditional (result is then false)',
    },
    detail: str('For direct: the condition outcome or expiry that decided it'),
  }),
  ExplainResponse: obj({
    permissionship: PERMISSIONSHIP,
    missingContext: MISSING_CONTEXT,
    root: ref('ExplainNode'),
    checkedAt: ref('ZedToken'),
  }),
  RelationshipFilter: obj({
    resourceType: str(),
    optionalResourceId: str(),
    optionalRelation: str(),
    optionalSubjectType: str(),
    optionalSubjectId: str(),
    optionalSubjectRelation: str(),
  }),
  Precondition: obj({
    operation: { type: 'string', enum: ['OPERATION_MUST_MATCH', 'OPERATION_MUST_NOT_MATCH'] },
    filter: ref('RelationshipFilter'),
  }),
  WriteRelationshipsRequest: obj({
    updates: arr(
      obj({
        operation: { type: 'string', enum: ['OPERATION_CREATE', 'OPERATION_TOUCH', 'OPERATION_DELETE'] },
        relationship: ref('Relationship'),
      }),
    ),
    preconditions: arr(ref('Precondition')),
  }),
  WriteRelationshipsResponse: obj({ writtenAt: ref('ZedToken') }),
  DeleteRelationshipsRequest: obj(
    { filter: ref('RelationshipFilter'), preconditions: arr(ref('Precondition')) },
    ['filter'],
  ),
  DeleteRelationshipsResponse: obj({
    deletedAt: ref('ZedToken'),
    deletedCount: str('uint64 as a decimal string'),
  }),
  DeleteObjectRequest: obj({ object: ref('ObjectReference') }, ['object']),
  DeleteObjectResponse: obj({
    deletedAt: ref('ZedToken'),
    deletedCount: str('uint64 as a decimal string'),
    consequences: arr(ref('Relationship')),
  }),
  ReadRelationshipsRequest: obj({
    consistency: ref('Consistency'),
    filter: ref('RelationshipFilter'),
    pageSize: { type: 'integer', minimum: 0 },
    cursor: str(),
  }),
  ReadRelationshipsResponse: obj({
    relationships: arr(ref('Relationship')),
    nextCursor: str(),
    readAt: ref('ZedToken'),
  }),
  WatchRequest: obj({ optionalStartCursor: ref('ZedToken') }),
  WatchResponse: obj({
    changes: arr(
      obj({
        operation: { type: 'string', enum: ['OPERATION_INSERT', 'OPERATION_DELETE'] },
        relationship: ref('Relationship'),
      }),
    ),
    changesThrough: ref('ZedToken'),
  }),
  ReadSchemaResponse: obj({
    schemaJson: str('The loaded schema as JSON text'),
    schemaHash: str('sha256 hex'),
  }),
  ValidatePoliciesRequest: obj({ files: arr(obj({ path: str(), content: str() }, ['path', 'content'])) }, [
    'files',
  ]),
  ValidatePoliciesResponse: obj({
    valid: { type: 'boolean' },
    problems: arr(
      obj({
        file: str(),
        line: { type: 'integer' },
        column: { type: 'integer' },
        path: str(),
        message: str(),
      }),
    ),
  }),
};

const ERROR_RESPONSES: Record<string, Schema> = Object.fromEntries(
  [
    ['400', 'INVALID_ARGUMENT, or invalid JSON'],
    ['401', 'UNAUTHENTICATED: missing or wrong bearer token (writes and admin calls)'],
    ['404', 'NOT_FOUND'],
    ['409', 'ALREADY_EXISTS or ABORTED'],
    ['412', 'FAILED_PRECONDITION'],
    ['413', 'RESOURCE_EXHAUSTED: over a configured limit (batch, body, depth)'],
    ['415', 'Content-Type is not application/json'],
    ['500', 'INTERNAL'],
    ['503', 'UNAVAILABLE'],
    ['504', 'DEADLINE_EXCEEDED'],
  ].map(([status, description]) => [
    status,
    { description, content: { 'application/json': { schema: ref('Error') } } },
  ]),
);

const HEADERS = [
  {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    schema: str(),
    description: 'Echoed in the response.',
  },
  {
    name: 'Gatehouse-Timeout-Ms',
    in: 'header',
    required: false,
    schema: { type: 'integer', minimum: 1 },
    description: 'Request deadline.',
  },
];

function operation(
  id: string,
  summary: string,
  request: string | undefined,
  response: string,
  secured: boolean,
): Schema {
  const op: Schema = {
    operationId: id,
    summary,
    parameters: HEADERS,
    responses: {
      '200': { description: 'OK', content: { 'application/json': { schema: ref(response) } } },
      ...ERROR_RESPONSES,
    },
  };
  if (request !== undefined)
    op.requestBody = { required: true, content: { 'application/json': { schema: ref(request) } } };
  if (secured) op.security = [{ bearer: [] }];
  return op;
}

/** Operations: [path, operationId, summary, request schema, response schema, needs token]. */
export const API_OPERATIONS: readonly (readonly [string, string, string, string, string, boolean])[] = [
  [
    '/v1/check',
    'Check',
    'May the subject do the permission on the resource?',
    'CheckRequest',
    'CheckResponse',
    false,
  ],
  [
    '/v1/check/batch',
    'CheckBatch',
    'Many checks at one revision, results in request order',
    'CheckBatchRequest',
    'CheckBatchResponse',
    false,
  ],
  [
    '/v1/lookup/resources',
    'LookupResources',
    'One page of resources the subject has the permission on',
    'LookupResourcesRequest',
    'LookupResourcesResponse',
    false,
  ],
  [
    '/v1/lookup/subjects',
    'LookupSubjects',
    'Subjects of a type that have the permission',
    'LookupSubjectsRequest',
    'LookupSubjectsResponse',
    false,
  ],
  ['/v1/explain', 'Explain', 'Why a check is allowed or denied', 'CheckRequest', 'ExplainResponse', false],
  [
    '/v1/relationships/write',
    'WriteRelationships',
    'Apply updates atomically, with preconditions',
    'WriteRelationshipsRequest',
    'WriteRelationshipsResponse',
    true,
  ],
  [
    '/v1/relationships/delete',
    'DeleteRelationships',
    'Delete every relationship matching a filter',
    'DeleteRelationshipsRequest',
    'DeleteRelationshipsResponse',
    true,
  ],
  [
    '/v1/objects/delete',
    'DeleteObject',
    'Delete an object and apply declared deletion consequences',
    'DeleteObjectRequest',
    'DeleteObjectResponse',
    true,
  ],
  [
    '/v1/relationships/read',
    'ReadRelationships',
    'One page of stored relationships',
    'ReadRelationshipsRequest',
    'ReadRelationshipsResponse',
    true,
  ],
  [
    '/v1/policies/validate',
    'ValidatePolicies',
    'Validate policy files without loading them',
    'ValidatePoliciesRequest',
    'ValidatePoliciesResponse',
    true,
  ],
];

/** The whole document; built on each call (it is cached as a string by the app). */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Schema> = {};
  for (const [path, id, summary, request, response, secured] of API_OPERATIONS) {
    paths[path] = { post: operation(id, summary, request, response, secured) };
  }
  paths['/v1/schema'] = {
    get: operation('ReadSchema', 'The loaded schema', undefined, 'ReadSchemaResponse', false),
  };
  const watch = operation('Watch', 'Stream changes after a revision', 'WatchRequest', 'WatchResponse', true);
  watch.responses = {
    ...(watch.responses as Schema),
    '200': {
      description:
        'One WatchResponse JSON per line, kept open; a final {"error": ...} line if the stream ends with an error',
      content: { 'application/x-ndjson': { schema: ref('WatchResponse') } },
    },
  };
  paths['/v1/watch'] = { post: watch };
  paths['/v1/admin/reload'] = {
    post: {
      operationId: 'ReloadPolicies',
      summary:
        'Reload the policy files now (bearer token). 200 {result: success|unchanged, policyHash, previousHash}; 400 with every file:line:column problem, or 412 listing orphaned relationships, while the last good policies keep serving',
      responses: {
        '200': { description: 'Applied, or unchanged' },
        '400': { description: 'The policies are invalid' },
        '412': { description: 'Refused: stored relationships would be orphaned' },
      },
    },
  };
  Object.assign(paths, authzenOpenApiPaths());
  paths['/healthz'] = {
    get: { operationId: 'Healthz', summary: 'Liveness', responses: { '200': { description: 'Alive' } } },
  };
  paths['/readyz'] = {
    get: {
      operationId: 'Readyz',
      summary:
        'Readiness: serving from a local graph, not shutting down, replication lag within --redis-max-lag. The JSON detail: ready, state (ok|degraded), lagRevisions, lagSeconds, storeKind, policyHash, lastError, lastReloadError',
      responses: {
        '200': { description: 'Ready (state ok or degraded)' },
        '503': { description: 'Not ready (reason in the detail)' },
      },
    },
  };
  paths['/metrics'] = {
    get: {
      operationId: 'Metrics',
      summary: 'Prometheus metrics',
      responses: { '200': { description: 'Prometheus text format' } },
    },
  };
  paths['/openapi.json'] = {
    get: {
      operationId: 'OpenApi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1 JSON' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse HTTP/JSON API',
      version: '1.0.0',
      description:
        'The HTTP form of gatehouse.v1.GatehouseService: request and response bodies are the proto3 JSON form of the messages in proto/gatehouse/v1/gatehouse.proto.',
    },
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}
