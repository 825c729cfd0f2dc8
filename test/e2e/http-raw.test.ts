// End-to-end over raw HTTP: malformed requests get precise errors and never change state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseProcess, startGatehouse, TOKEN } from './support/gatehouse-process.js';
import { createHttpTransport, GatehouseClient } from './support/sdk.js';

const MAX_BODY_BYTES = 2048;

describe('raw HTTP requests against gatehouse serve', () => {
  let server: GatehouseProcess;
  let client: GatehouseClient;

  beforeAll(async () => {
    server = await startGatehouse({ args: ['--max-body-bytes', String(MAX_BODY_BYTES)] });
    client = new GatehouseClient(createHttpTransport({ baseUrl: `http://${server.http}`, token: TOKEN }), {
      defaultTimeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await client?.close();
    expect(await server?.stop()).toBe(0);
  });

  /** Everything stored, and the revision it was read at. */
  async function snapshot(): Promise<{ relationships: string[]; revision: string }> {
    const pages = [];
    for (const type of ['group', 'contact']) {
      for await (const page of client
        .read({ filter: { resourceType: type } }, { consistency: 'fully-consistent' })
        .pages()) {
        pages.push(page);
      }
    }
    return {
      relationships: pages.flatMap((p) => p.relationships.map((r) => JSON.stringify(r))).sort(),
      revision: pages[0]?.readAt ?? '',
    };
  }

  function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`http://${server.http}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body,
    });
  }

  /** A WriteRelationships body of one touch per `[group id, subject]`, in the wire's JSON shape. */
  function touchGroups(...members: [string, Record<string, unknown>][]): { updates: unknown[] } {
    return {
      updates: members.map(([groupId, subject]) => ({
        operation: 'OPERATION_TOUCH',
        relationship: { resource: { objectType: 'group', objectId: groupId }, relation: 'member', subject },
      })),
    };
  }

  async function errorOf(response: Response): Promise<{ code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return body.error;
  }

  it('answers invalid JSON with 400 INVALID_ARGUMENT and writes nothing', async () => {
    const before = await snapshot();
    const response = await post('/v1/relationships/write', '{"updates": [ {"operation": "OPERATION_TOUCH", ');
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.any(String) });
    expect(await snapshot()).toEqual(before);
  });

  it('answers a non-JSON content type with 415 and writes nothing', async () => {
    const before = await snapshot();
    const write = JSON.stringify(touchGroups(['typed', { object: { objectType: 'user', objectId: 'eve' } }]));
    const response = await post('/v1/relationships/write', write, { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).message).toContain('application/json');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses unknown fields, naming the path and the field meant, and writes nothing', async () => {
    const before = await snapshot();
    // A snake_case subject relation would otherwise be dropped and the subject set written as
    // a plain object: a different relationship than the one asked for.
    const write = JSON.stringify(
      touchGroups([
        'unknown-field',
        { object: { objectType: 'group', objectId: 'eng' }, optional_relation: 'member' },
      ]),
    );
    const response = await post('/v1/relationships/write', write);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(
      "unknown field 'updates[0].relationship.subject.optional_relation' (did you mean 'optionalRelation'?)",
    );
    expect(await snapshot()).toEqual(before);

    const check = await post(
      '/v1/check',
      JSON.stringify({
        resource: { objectType: 'contact', objectId: 'p1' },
        permission: 'view',
        subject: { object: { objectType: 'user', objectId: 'mike' } },
        consistency: { fullyConsistant: true },
      }),
    );
    expect(check.status).toBe(400);
    expect((await errorOf(check)).message).toMatch(
      /'consistency\.fullyConsistant' \(did you mean 'fullyConsistent'\?\)/,
    );
  });

  it('answers a body over the limit with 413 RESOURCE_EXHAUSTED and writes nothing', async () => {
    const before = await snapshot();
    const body = JSON.stringify(
      touchGroups(
        ...Array.from({ length: 40 }, (_, i): [string, Record<string, unknown>] => [
          `big${i}`,
          { object: { objectType: 'user', objectId: `member${i}` } },
        ]),
      ),
    );
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES);
    const response = await post('/v1/relationships/write', body);
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(await snapshot()).toEqual(before);
  });

  it('echoes X-Request-Id and accepts the request when it is well formed', async () => {
    const response = await post(
      '/v1/check',
      JSON.stringify({
        resource: { objectType: 'contact', objectId: 'private1' },
        permission: 'view',
        subject: { object: { objectType: 'user', objectId: 'olivia' } },
      }),
      { 'x-request-id': 'e2e-raw-1' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('e2e-raw-1');
    expect(await response.json()).toMatchObject({ permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' });
  });
});
