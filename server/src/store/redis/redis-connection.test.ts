// Tests for the bounded error kinds RedisStore counts for metrics.
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../errors.js';
import { classifyRedisError, unavailable } from './redis-connection.js';

describe('classifyRedisError', () => {
  it.each([
    ['Command timed out', 'timeout'],
    ["READONLY You can't write against a read only replica.", 'readonly'],
    ['OOM command not allowed when used memory > maxmemory', 'oom'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ['BUSY Redis is busy running a script', 'busy'],
    ['CLUSTERDOWN The cluster is down', 'cluster'],
    ['Connection is closed.', 'connection'],
    ["Stream isn't writeable and enableOfflineQueue options is false", 'connection'],
    ['connect ECONNREFUSED 127.0.0.1:1', 'connection'],
    ['ERR something unexpected', 'other'],
  ])('%s → %s', (message, kind) => {
    expect(classifyRedisError(new Error(message))).toBe(kind);
  });
});

describe('unavailable', () => {
  it('wraps a failure as UnavailableError saying what was being done, keeping the cause', () => {
    const cause = new Error('Connection is closed.');
    const err = unavailable(cause, 'writing');
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain('while writing');
    expect(err.cause).toBe(cause);
    expect(unavailable(err, 'reading')).toBe(err);
  });
});
