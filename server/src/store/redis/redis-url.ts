// Parses the --redis URL into where and how to connect: standalone (redis://, rediss://),
// Sentinel (redis+sentinel://) or Cluster (redis+cluster://). Credentials never reach errors.
import { InvalidArgumentError } from '../../errors.js';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** rediss / rediss+sentinel / rediss+cluster: TLS to every node. */
  readonly tls: boolean;
}

export interface StandaloneTarget extends Credentials {
  readonly mode: 'standalone';
  readonly address: RedisAddress;
  readonly db: number;
}

export interface SentinelTarget extends Credentials {
  readonly mode: 'sentinel';
  /** The Sentinels to ask for the current master (the credentials are the master's). */
  readonly sentinels: readonly RedisAddress[];
  readonly masterName: string;
  readonly db: number;
}

export interface ClusterTarget extends Credentials {
  readonly mode: 'cluster';
  /** Seed nodes; the rest of the Cluster is discovered from them. */
  readonly nodes: readonly RedisAddress[];
}

export type RedisTarget = StandaloneTarget | SentinelTarget | ClusterTarget;

const SCHEMES: Readonly<Record<string, { mode: RedisTarget['mode']; tls: boolean; port: number }>> = {
  redis: { mode: 'standalone', tls: false, port: 6379 },
  rediss: { mode: 'standalone', tls: true, port: 6379 },
  'redis+sentinel': { mode: 'sentinel', tls: false, port: 26379 },
  'rediss+sentinel': { mode: 'sentinel', tls: true, port: 26379 },
  'redis+cluster': { mode: 'cluster', tls: false, port: 6379 },
  'rediss+cluster': { mode: 'cluster', tls: true, port: 6379 },
};

const FORMS =
  'use redis://[user:password@]host:port[/db], rediss://…, redis+sentinel://host:port,host:port/mastername[/db] or redis+cluster://host:port,host:port';

/** The URL with any password replaced by `***`: safe for logs and error messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

function fail(url: string, why: string): never {
  throw new InvalidArgumentError(`invalid Redis URL '${redactRedisUrl(url)}': ${why}; ${FORMS}`, {
    field: 'redis',
  });
}

function decode(url: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(url, 'bad percent-encoding in the credentials');
  }
}

function parseAddress(url: string, text: string, defaultPort: number): RedisAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (m === null) fail(url, `'${text}' is not host, host:port or [ipv6]:port`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) fail(url, `port ${port} is outside 1-65535`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function parseDb(url: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,5}$/.test(text)) fail(url, `database '${text}' must be a number`);
  return Number(text);
}

/** Throws InvalidArgumentError (field `redis`) saying what is wrong and which forms are accepted. */
export function parseRedisUrl(url: string): RedisTarget {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) fail(url, 'it has no scheme');
  const scheme = SCHEMES[url.slice(0, schemeEnd).toLowerCase()];
  if (scheme === undefined) fail(url, `unknown scheme '${url.slice(0, schemeEnd)}'`);
  let rest = url.slice(schemeEnd + 3);
  if (/[?#]/.test(rest)) fail(url, 'query strings and fragments are not supported');
  let username: string | undefined;
  let password: string | undefined;
  const slash = rest.indexOf('/');
  const at = rest.lastIndexOf('@', slash < 0 ? rest.length : slash);
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    username = user === '' ? undefined : decode(url, user);
    password = colon < 0 ? undefined : decode(url, userinfo.slice(colon + 1));
    // redis://secret@host is the classic password-only form.
    if (colon < 0) [username, password] = [undefined, username];
  }
  const hostEnd = rest.indexOf('/');
  const hostList = hostEnd < 0 ? rest : rest.slice(0, hostEnd);
  const path = hostEnd < 0 ? [] : rest.slice(hostEnd + 1).split('/');
  if (hostList === '') fail(url, 'it names no host');
  const addresses = hostList.split(',').map((h) => parseAddress(url, h, scheme.port));
  const credentials = { username, password, tls: scheme.tls };
  if (scheme.mode === 'standalone') {
    if (addresses.length > 1) fail(url, 'a standalone URL names one host');
    if (path.length > 1) fail(url, 'the path is only the database number');
    return {
      mode: 'standalone',
      address: addresses[0] as RedisAddress,
      db: parseDb(url, path[0]),
      ...credentials,
    };
  }
  if (scheme.mode === 'sentinel') {
    const masterName = path[0] ?? '';
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(masterName)) {
      fail(url, 'a Sentinel URL ends with the master name: /mymaster');
    }
    if (path.length > 2) fail(url, 'the path is /mastername or /mastername/db');
    return { mode: 'sentinel', sentinels: addresses, masterName, db: parseDb(url, path[1]), ...credentials };
  }
  if (path.length > 1 || (path[0] !== undefined && path[0] !== '' && path[0] !== '0')) {
    fail(url, 'a Cluster has only database 0, so its URL has no path');
  }
  return { mode: 'cluster', nodes: addresses, ...credentials };
}
