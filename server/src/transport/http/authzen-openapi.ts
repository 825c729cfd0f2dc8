// The AuthZEN routes' entries in /openapi.json: paths and summaries (the message shapes are the
// AuthZEN Authorization API 1.0's, described in docs/authzen.md rather than re-specified here).
import { AUTHZEN_PATHS } from './authzen.js';

type Schema = Record<string, unknown>;

const ERRORS: Schema = {
  '400': {
    description: 'Malformed request, or a type or action the schema does not have: an error message string',
  },
  '401': { description: 'No or unknown bearer token (WWW-Authenticate: Bearer): an error message string' },
  '403': { description: 'The token lacks the scope: an error message string' },
};

function post(operationId: string, summary: string, ok: string): Schema {
  return {
    post: {
      operationId,
      summary,
      tags: ['AuthZEN'],
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        '200': { description: ok, content: { 'application/json': { schema: { type: 'object' } } } },
        ...ERRORS,
      },
    },
  };
}

/** The OpenAPI path items of the AuthZEN endpoints. */
export function authzenOpenApiPaths(): Record<string, Schema> {
  return {
    [AUTHZEN_PATHS.evaluation]: post(
      'AuthzenEvaluation',
      'AuthZEN Access Evaluation: {subject, action, resource, context} -> {decision} (scope check)',
      '{"decision": true|false}; a deny is 200 {"decision": false}',
    ),
    [AUTHZEN_PATHS.evaluations]: post(
      'AuthzenEvaluations',
      'AuthZEN Access Evaluations: top-level defaults, evaluations[], options.evaluations_semantic (scope check)',
      '{"evaluations": [{"decision", "context"?}, ...]} in request order; a failed item is {"decision": false, "context": {"error": {status, message}}}',
    ),
    [AUTHZEN_PATHS.searchSubject]: post(
      'AuthzenSearchSubject',
      'AuthZEN Subject Search: subjects of subject.type with the action on the resource (scope read)',
      '{"page": {next_token, count, total}, "results": [{type, id}]}',
    ),
    [AUTHZEN_PATHS.searchResource]: post(
      'AuthzenSearchResource',
      'AuthZEN Resource Search: resources of resource.type the subject has the action on (scope read)',
      '{"page": {next_token, count}, "results": [{type, id}]}',
    ),
    [AUTHZEN_PATHS.searchAction]: post(
      'AuthzenSearchAction',
      "AuthZEN Action Search: the permissions of the resource's type the subject has on it (scope read)",
      '{"page": {next_token, count, total}, "results": [{name}]}',
    ),
    [AUTHZEN_PATHS.configuration]: {
      get: {
        operationId: 'AuthzenConfiguration',
        summary: 'AuthZEN PDP metadata, from --authzen-base-url (no token)',
        tags: ['AuthZEN'],
        responses: {
          '200': { description: 'policy_decision_point and the endpoint URLs' },
          '404': { description: 'No --authzen-base-url configured: an error message string' },
        },
      },
    },
  };
}
