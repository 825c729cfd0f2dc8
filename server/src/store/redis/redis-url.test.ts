// Tests for parsing --redis URLs: each accepted form, defaults, and clear errors without secrets.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

describe('parseRedisUrl', () => {
  it('parses standalone URLs with defaults, credentials, db and TLS', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({
      mode: 'standalone',
      address: { host: 'localhost', port: 6379 },
      db: 0,
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisUrl('rediss://app:p%40ss@cache.internal:6380/3')).toEqual({
      mode: 'standalone',
      address: { host: 'cache.internal', port: 6380 },
      db: 3,
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
  });

  it('reads a bare userinfo as the password, and IPv6 hosts in brackets', () => {
    const t = parseRedisUrl('redis://secret@[::1]:7000/');
    expect(t).toMatchObject({ address: { host: '::1', port: 7000 }, password: 'secret', db: 0 });
    expect(t.username).toBeUndefined();
    expect(parseRedisUrl('redis://:only-pass@h:1')).toMatchObject({
      username: undefined,
      password: 'only-pass',
    });
  });

  it('parses Sentinel URLs: several sentinels, the master name and an optional db', () => {
    expect(parseRedisUrl('redis+sentinel://s1:26380,s2,10.0.0.3:26381/mymaster/2')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '10.0.0.3', port: 26381 },
      ],
      masterName: 'mymaster',
      db: 2,
      username: undefined,
      password: undefined,
      tls: false,
    });
  });

  it('parses Cluster URLs as seed nodes', () => {
    expect(parseRedisUrl('rediss+cluster://u:p@n1:7000,n2:7001')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      username: 'u',
      password: 'p',
      tls: true,
    });
  });

  it.each([
    ['localhost:6379', 'no scheme'],
    ['http://h', "unknown scheme 'http'"],
    ['redis://', 'no host'],
    ['redis://a,b', 'one host'],
    ['redis://h:99999', 'outside 1-65535'],
    ['redis://h/x', "database 'x'"],
    ['redis://h/1?tls=true', 'query strings'],
    ['redis+sentinel://s1,s2', 'master name'],
    ['redis+cluster://n1/2', 'database 0'],
    ['redis://h_h', 'is not host'],
  ])('rejects %s clearly', (url, why) => {
    let error: unknown;
    try {
      parseRedisUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).message).toContain(why);
    expect((error as InvalidArgumentError).field).toBe('redis');
  });

  it('never puts the password in an error message', () => {
    expect(() => parseRedisUrl('redis://user:hunter2@h:1/zz')).toThrow(/user:\*\*\*@/);
    expect(() => parseRedisUrl('redis://user:hunter2@h:1/zz')).not.toThrow(/hunter2/);
    expect(redactRedisUrl('redis://hunter2@h')).toBe('redis://***@h');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});
