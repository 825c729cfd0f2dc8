// End-to-end: the AuthZEN interop "Todo" scenario against the real `gatehouse serve` over HTTP.
// Requests are shaped exactly as the interop PEP sends them (opaque `sub` subject ids, email user
// ids, the todo's `ownerID` property) and answered with the interop's expected decisions.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseProcess, MAIN_JS, startGatehouse, TOKEN } from './support/gatehouse-process.js';

// The example policy as shipped, served alone, as a PEP's operator would run it.
const POLICIES = fileURLToPath(new URL('../../policies/authzen_todo', import.meta.url));
const BASE_URL = 'https://pdp.example.com';

type Role = 'admin+evil_genius' | 'editor' | 'viewer';
interface TodoUser {
  readonly sub: string;
  readonly email: string;
  readonly role: Role;
  /** The todo this user owns in the scenario. */
  readonly todo: string;
}

const todo = (n: number): string => `7240d0db-8ff0-41ec-98b2-34a096273b9${n}`;
const USERS: Readonly<Record<string, TodoUser>> = {
  rick: {
    sub: 'CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs',
    email: 'rick@the-citadel.com',
    role: 'admin+evil_genius',
    todo: todo(2),
  },
  morty: {
    sub: 'CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs',
    email: 'morty@the-citadel.com',
    role: 'editor',
    todo: todo(1),
  },
  summer: {
    sub: 'CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs',
    email: 'summer@the-smiths.com',
    role: 'editor',
    todo: todo(3),
  },
  beth: {
    sub: 'CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs',
    email: 'beth@the-smiths.com',
    role: 'viewer',
    todo: todo(4),
  },
  jerry: {
    sub: 'CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs',
    email: 'jerry@the-smiths.com',
    role: 'viewer',
    todo: todo(5),
  },
};
const RICK = USERS.rick!;
const MORTY = USERS.morty!;

interface Evaluation {
  readonly subject: { type: string; id: string; properties?: Record<string, unknown> };
  readonly action: { name: string };
  readonly resource: { type: string; id: string; properties?: Record<string, unknown> };
  readonly context?: Record<string, unknown>;
}

/** An evaluation as the interop PEP builds it; `owner` adds the todo's `ownerID` property. */
function ask(
  user: TodoUser,
  action: string,
  type: 'user' | 'todo',
  id: string,
  owner?: TodoUser,
): Evaluation {
  return {
    subject: { type: 'user', id: user.sub },
    action: { name: action },
    resource: owner === undefined ? { type, id } : { type, id, properties: { ownerID: owner.email } },
  };
}

/** A todo as the PEP names it: its id and its owner's email as the `ownerID` property. */
function todoOf(owner: TodoUser): { type: 'todo'; id: string; properties: { ownerID: string } } {
  return { type: 'todo', id: owner.todo, properties: { ownerID: owner.email } };
}

/** The interop's decisions for one user: the rows of its decisions table. */
function scenario(user: TodoUser): [Evaluation, boolean][] {
  const editor = user.role !== 'viewer';
  const other = user === RICK ? MORTY : RICK;
  return [
    [ask(user, 'can_read_user', 'user', USERS.beth!.email), true],
    [ask(user, 'can_read_user', 'user', user.email), true],
    [ask(user, 'can_read_todos', 'todo', 'todo-1'), true],
    [ask(user, 'can_create_todo', 'todo', 'todo-1'), editor],
    // Someone else's todo: only the evil genius updates it, only the admin deletes it.
    [ask(user, 'can_update_todo', 'todo', other.todo, other), user === RICK],
    [ask(user, 'can_delete_todo', 'todo', other.todo, other), user === RICK],
    // Their own todo: editors (and admins, evil geniuses) may; viewers may not, even as owners.
    [ask(user, 'can_update_todo', 'todo', user.todo, user), editor],
    [ask(user, 'can_delete_todo', 'todo', user.todo, user), editor],
  ];
}

describe('AuthZEN interop Todo scenario over HTTP', () => {
  let server: GatehouseProcess;

  beforeAll(async () => {
    server = await startGatehouse({ policies: POLICIES, args: ['--authzen-base-url', BASE_URL] });
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`http://${server.http}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('passes its own policy tests (gatehouse test)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [MAIN_JS, 'test', POLICIES]);
    expect(stdout).toMatch(/\b0 failed/);
  });

  for (const [name, user] of Object.entries(USERS)) {
    it(`answers ${name}'s (${user.role}) evaluations as the interop expects`, async () => {
      const rows = scenario(user);
      const answers = await Promise.all(
        rows.map(async ([request]) => {
          const response = await post('/access/v1/evaluation', request);
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toContain('application/json');
          return response.json();
        }),
      );
      expect(answers).toEqual(rows.map(([, decision]) => ({ decision })));
    });
  }

  it('answers the interop evaluations requests (top-level subject and action, items per todo)', async () => {
    const cases: [TodoUser, TodoUser[], boolean[]][] = [
      [RICK, [RICK, USERS.jerry!], [true, true]],
      [MORTY, [RICK, MORTY], [false, true]],
      [USERS.jerry!, [RICK, USERS.jerry!], [false, false]],
    ];
    for (const [user, owners, expected] of cases) {
      const response = await post('/access/v1/evaluations', {
        subject: { type: 'user', id: user.sub },
        action: { name: 'can_update_todo' },
        evaluations: owners.map((o) => ({
          resource: { type: 'todo', id: o.todo, properties: { ownerID: o.email } },
        })),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ evaluations: expected.map((decision) => ({ decision })) });
    }
  });

  it('applies item overrides of the top-level defaults, in request order', async () => {
    const response = await post('/access/v1/evaluations', {
      subject: { type: 'user', id: MORTY.sub },
      action: { name: 'can_delete_todo' },
      resource: todoOf(MORTY),
      evaluations: [
        {},
        { resource: todoOf(RICK) },
        { subject: { type: 'user', id: RICK.sub }, resource: todoOf(RICK) },
        { action: { name: 'can_read_user' }, resource: { type: 'user', id: RICK.email } },
      ],
    });
    expect(await response.json()).toEqual({
      evaluations: [{ decision: true }, { decision: false }, { decision: true }, { decision: true }],
    });
  });

  it('stops at the first deny or the first permit when the options ask for it', async () => {
    const items = [RICK, MORTY, USERS.summer!].map((o) => ({ resource: todoOf(o) }));
    const base = { subject: { type: 'user', id: MORTY.sub }, action: { name: 'can_update_todo' } };
    const all = await post('/access/v1/evaluations', { ...base, evaluations: items });
    expect(await all.json()).toEqual({
      evaluations: [{ decision: false }, { decision: true }, { decision: false }],
    });
    const firstDeny = await post('/access/v1/evaluations', {
      ...base,
      options: { evaluations_semantic: 'deny_on_first_deny' },
      evaluations: items,
    });
    expect(await firstDeny.json()).toEqual({
      evaluations: [{ decision: false, context: { reason: 'deny_on_first_deny' } }],
    });
    const firstPermit = await post('/access/v1/evaluations', {
      ...base,
      options: { evaluations_semantic: 'permit_on_first_permit' },
      evaluations: items,
    });
    expect(await firstPermit.json()).toEqual({ evaluations: [{ decision: false }, { decision: true }] });
  });

  it('answers an item naming an unknown action with decision false and its error, the others as usual', async () => {
    const response = await post('/access/v1/evaluations', {
      subject: { type: 'user', id: RICK.sub },
      resource: { type: 'todo', id: RICK.todo },
      evaluations: [{ action: { name: 'can_read_todos' } }, { action: { name: 'can_fly' } }],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { evaluations: { decision: boolean; context?: unknown }[] };
    expect(body.evaluations[0]).toEqual({ decision: true });
    expect(body.evaluations[1]).toMatchObject({
      decision: false,
      context: { error: { status: 400, message: expect.stringContaining('can_fly') } },
    });
  });

  it('answers unknown types and actions of a single evaluation with 400 and a message string', async () => {
    for (const request of [
      ask(RICK, 'can_fly', 'todo', RICK.todo),
      { ...ask(RICK, 'can_read_todos', 'todo', RICK.todo), resource: { type: 'spaceship', id: 'x' } },
    ]) {
      const response = await post('/access/v1/evaluation', request);
      expect(response.status).toBe(400);
      const message = await response.json();
      expect(typeof message).toBe('string');
      expect(message).toMatch(/can_fly|spaceship/);
    }
  });

  it("finds who may update a todo, the todos a user may delete, and a user's actions on a todo", async () => {
    // Ownership is the request's ownerID: with it, the owner qualifies; without it, only the roles
    // that need no owner (the evil genius).
    const subjects = await post('/access/v1/search/subject', {
      subject: { type: 'user' },
      action: { name: 'can_update_todo' },
      resource: todoOf(MORTY),
    });
    expect(await subjects.json()).toEqual({
      page: { next_token: '', count: 2, total: 2 },
      results: [RICK.sub, MORTY.sub].sort().map((id) => ({ type: 'user', id })),
    });
    const noOwner = await post('/access/v1/search/subject', {
      subject: { type: 'user' },
      action: { name: 'can_update_todo' },
      resource: { type: 'todo', id: MORTY.todo },
    });
    expect(await noOwner.json()).toEqual({
      page: { next_token: '', count: 1, total: 1 },
      results: [{ type: 'user', id: RICK.sub }],
    });

    // The admin deletes every todo the PDP knows; an editor's own todos are known only to the PEP.
    const deletable = async (user: TodoUser) => {
      const response = await post('/access/v1/search/resource', {
        subject: { type: 'user', id: user.sub },
        action: { name: 'can_delete_todo' },
        resource: { type: 'todo' },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { results: { id: string }[] }).results.map((r) => r.id);
    };
    expect((await deletable(RICK)).sort()).toEqual(['todo-1', ...[1, 2, 3, 4, 5].map(todo)].sort());
    expect(await deletable(MORTY)).toEqual([]);

    const actions = async (user: TodoUser, resource: unknown) => {
      const response = await post('/access/v1/search/action', {
        subject: { type: 'user', id: user.sub },
        resource,
      });
      return response.json();
    };
    expect(await actions(MORTY, todoOf(RICK))).toEqual({
      page: { next_token: '', count: 2, total: 2 },
      results: [{ name: 'can_read_todos' }, { name: 'can_create_todo' }],
    });
    expect(await actions(MORTY, todoOf(MORTY))).toEqual({
      page: { next_token: '', count: 4, total: 4 },
      results: ['can_read_todos', 'can_create_todo', 'can_update_todo', 'can_delete_todo'].map((name) => ({
        name,
      })),
    });
    expect(await actions(USERS.beth!, todoOf(USERS.beth!))).toEqual({
      page: { next_token: '', count: 1, total: 1 },
      results: [{ name: 'can_read_todos' }],
    });
  });

  it('decides ownership by the ownerID the PEP sends, for any todo linked to the app', async () => {
    // The PEP is the source of truth for owners: the same todo is Morty's when it says so.
    const asOwner = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: MORTY.sub },
      action: { name: 'can_update_todo' },
      resource: { type: 'todo', id: RICK.todo, properties: { ownerID: MORTY.email } },
    });
    expect(await asOwner.json()).toEqual({ decision: true });
    // An ownerID that is not the owner's email string owns nothing.
    for (const ownerID of [MORTY.sub, [MORTY.email], MORTY.email.toUpperCase()]) {
      const response = await post('/access/v1/evaluation', {
        subject: { type: 'user', id: MORTY.sub },
        action: { name: 'can_update_todo' },
        resource: { type: 'todo', id: MORTY.todo, properties: { ownerID } },
      });
      expect(await response.json(), JSON.stringify(ownerID)).toEqual({ decision: false });
    }
    // No properties at all: not owned, a deny rather than an error (the evil genius needs none).
    for (const [user, decision] of [
      [MORTY, false],
      [RICK, true],
    ] as const) {
      const response = await post('/access/v1/evaluation', {
        subject: { type: 'user', id: user.sub },
        action: { name: 'can_update_todo' },
        resource: { type: 'todo', id: MORTY.todo },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ decision });
    }
    // A todo the PEP never linked to the app is unknown: denied even to its owner.
    const unknown = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: MORTY.sub },
      action: { name: 'can_update_todo' },
      resource: { type: 'todo', id: 'not-created', properties: { ownerID: MORTY.email } },
    });
    expect(await unknown.json()).toEqual({ decision: false });
  });

  it('pages a search with next_token until it is empty, and refuses a token sent with another query', async () => {
    const query = {
      subject: { type: 'user', id: RICK.sub },
      action: { name: 'can_delete_todo' },
      resource: { type: 'todo' },
    };
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const response = await post('/access/v1/search/resource', { ...query, page: { limit: 2, token } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        page: { next_token: string; count: number };
        results: { id: string }[];
      };
      expect(body.results.length).toBeLessThanOrEqual(2);
      expect(body.page.count).toBe(body.results.length);
      seen.push(...body.results.map((r) => r.id));
      token = body.page.next_token === '' ? undefined : body.page.next_token;
      if (token !== undefined) {
        const other = await post('/access/v1/search/resource', {
          ...query,
          action: { name: 'can_update_todo' },
          page: { limit: 2, token },
        });
        expect(other.status).toBe(400);
        expect(await other.json()).toContain('different search');
      }
      pages++;
    } while (token !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['todo-1', todo(1), todo(2), todo(3), todo(4), todo(5)].sort());
  });

  /** Every page of a search at `limit` per page: the results in order, and how many pages it took. */
  async function allPages(path: string, query: Record<string, unknown>, limit: number) {
    const results: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const response = await post(path, { ...query, page: { limit, token } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        page: { next_token: string; count: number; total: number };
        results: unknown[];
      };
      expect(body.page.count).toBe(body.results.length);
      results.push(...body.results);
      token = body.page.next_token === '' ? undefined : body.page.next_token;
      pages++;
    } while (token !== undefined && pages < 20);
    return { results, pages };
  }

  it('pages subject and action searches by offset, the same results as one page', async () => {
    const subjects = {
      subject: { type: 'user' },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: 'todo-1' },
    };
    const whole = await allPages('/access/v1/search/subject', subjects, 100);
    expect(whole.pages).toBe(1);
    expect(whole.results).toHaveLength(5);
    const paged = await allPages('/access/v1/search/subject', subjects, 2);
    expect(paged).toEqual({ results: whole.results, pages: 3 });

    const actions = { subject: { type: 'user', id: RICK.sub }, resource: todoOf(RICK) };
    const all = await allPages('/access/v1/search/action', actions, 1);
    expect(all).toEqual({
      results: ['can_read_todos', 'can_create_todo', 'can_update_todo', 'can_delete_todo'].map((name) => ({
        name,
      })),
      pages: 4,
    });
  });

  it('refuses a next_token of one search endpoint on another', async () => {
    const first = await post('/access/v1/search/action', {
      subject: { type: 'user', id: RICK.sub },
      resource: { type: 'todo', id: RICK.todo },
      page: { limit: 1 },
    });
    const { page } = (await first.json()) as { page: { next_token: string } };
    expect(page.next_token).not.toBe('');
    const other = await post('/access/v1/search/subject', {
      subject: { type: 'user' },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: 'todo-1' },
      page: { token: page.next_token },
    });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatch(/page\.token/);
  });

  it('publishes the configured endpoints, whatever Host the request names', async () => {
    const response = await fetch(`http://${server.http}/.well-known/authzen-configuration`, {
      headers: { 'x-forwarded-host': 'evil.example', 'x-request-id': 'meta-1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('meta-1');
    expect(await response.json()).toEqual({
      policy_decision_point: BASE_URL,
      access_evaluation_endpoint: `${BASE_URL}/access/v1/evaluation`,
      access_evaluations_endpoint: `${BASE_URL}/access/v1/evaluations`,
      search_subject_endpoint: `${BASE_URL}/access/v1/search/subject`,
      search_resource_endpoint: `${BASE_URL}/access/v1/search/resource`,
      search_action_endpoint: `${BASE_URL}/access/v1/search/action`,
    });
  });

  it('echoes X-Request-ID, and answers a missing token with 401 and WWW-Authenticate', async () => {
    const ok = await post('/access/v1/evaluation', ask(RICK, 'can_read_todos', 'todo', 'todo-1'), {
      'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716',
    });
    expect(ok.headers.get('x-request-id')).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
    const anonymous = await fetch(`http://${server.http}/access/v1/evaluation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-401' },
      body: JSON.stringify(ask(RICK, 'can_read_todos', 'todo', 'todo-1')),
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.headers.get('x-request-id')).toBe('r-401');
    expect(typeof (await anonymous.json())).toBe('string');
  });

  it('answers malformed bodies with a 400 naming the problem, and keeps answering as before', async () => {
    const valid = ask(MORTY, 'can_update_todo', 'todo', MORTY.todo, MORTY);
    const cases: [string, string | unknown, RegExp][] = [
      ['invalid JSON', '{"subject": {', /not valid JSON/],
      ['an array body', '[1,2]', /must be a JSON object/],
      ['no subject', { ...valid, subject: undefined }, /subject is required/],
      ['a subject without id', { ...valid, subject: { type: 'user' } }, /subject\.id is required/],
      [
        'a numeric resource id',
        { ...valid, resource: { type: 'todo', id: 7 } },
        /resource\.id must be a string/,
      ],
      ['an action without name', { ...valid, action: {} }, /action\.name is required/],
      ['a context that is a string', { ...valid, context: 'now' }, /context must be an object/],
      [
        'properties that are a list',
        { ...valid, subject: { type: 'user', id: 'x', properties: [] } },
        /subject\.properties must be an object/,
      ],
    ];
    // Built as text: the test's own JSON.stringify could not write it.
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const withMember = (body: unknown, member: string): string =>
      `${JSON.stringify(body).slice(0, -1)},${member}}`;
    cases.push(['a context nested 100 000 deep', withMember(valid, `"context":${deep}`), /context nests/]);
    cases.push([
      'resource properties nested 100 000 deep',
      withMember(
        { subject: valid.subject, action: valid.action },
        `"resource":{"type":"todo","id":"x","properties":${deep}}`,
      ),
      /resource\.properties nests/,
    ]);
    for (const [what, body, message] of cases) {
      const response = await post('/access/v1/evaluation', body);
      expect(response.status, what).toBe(400);
      expect(await response.json(), what).toMatch(message);
    }
    const badEvaluations: [unknown, RegExp][] = [
      [{ evaluations: [{ resource: { type: 'todo', id: 'a' } }] }, /evaluations\[0\]\.subject is required/],
      [{ ...valid, evaluations: 'all' }, /evaluations must be an array/],
      [
        { ...valid, evaluations: [valid], options: { evaluations_semantic: 'first' } },
        /evaluations_semantic/,
      ],
    ];
    for (const [body, message] of badEvaluations) {
      const response = await post('/access/v1/evaluations', body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatch(message);
    }
    const deepSearch = await post(
      '/access/v1/search/resource',
      withMember(
        {
          subject: { type: 'user', id: RICK.sub },
          action: { name: 'can_read_todos' },
          resource: { type: 'todo' },
        },
        `"context":${deep}`,
      ),
    );
    expect(deepSearch.status).toBe(400);
    expect(await deepSearch.json()).toMatch(/context nests/);
    const search = await post('/access/v1/search/resource', {
      subject: { type: 'user', id: RICK.sub },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo' },
      page: { limit: -1 },
    });
    expect(search.status).toBe(400);
    const token = await post('/access/v1/search/subject', {
      subject: { type: 'user' },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: 'todo-1' },
      page: { token: 'bm90IG91cnM' },
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatch(/not a next_token/);
    const text = await post('/access/v1/evaluation', JSON.stringify(valid), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);

    // The server still answers, and the same.
    const after = await post('/access/v1/evaluation', valid);
    expect(await after.json()).toEqual({ decision: true });
    expect(server.child.exitCode).toBeNull();
  });

  it('ignores unknown members, as the spec asks', async () => {
    const response = await post('/access/v1/evaluation', {
      ...ask(MORTY, 'can_update_todo', 'todo', MORTY.todo, MORTY),
      extension: { anything: 1 },
      subject: { type: 'user', id: MORTY.sub, identity: MORTY.sub },
    });
    expect(await response.json()).toEqual({ decision: true });
  });
});
