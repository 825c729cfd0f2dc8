// Tests for the change feed's message format: what each build's scripts publish, and what a
// reader makes of a message it cannot parse (nothing: it falls back to the changelog).
import { describe, expect, it } from 'vitest';
import { parseFeedMessage } from './redis-changelog.js';

describe('parseFeedMessage', () => {
  it('reads a commit naming its writer, and one from a build that named none', () => {
    expect(parseFeedMessage('7 e1 1700000000000.123 w9\n+a\n-b')).toEqual({
      revision: 7,
      epoch: 'e1',
      committedAt: 1700000000000.123,
      changes: '+a\n-b',
      writer: 'w9',
    });
    expect(parseFeedMessage('7 e1 1700000000000.123\n+a')).toEqual({
      revision: 7,
      epoch: 'e1',
      committedAt: 1700000000000.123,
      changes: '+a',
      writer: undefined,
    });
  });

  it('reads a seed, which carries no changes', () => {
    expect(parseFeedMessage('1 e1 5 s')).toEqual({
      revision: 1,
      epoch: 'e1',
      committedAt: 5,
      changes: undefined,
    });
  });

  it('refuses anything else, so the reader goes to the changelog', () => {
    for (const message of [
      '',
      'x e1 5\n+a', // no revision
      '0 e1 5\n+a', // revisions start at 1
      '7 e1 later\n+a',
      '7\n+a', // no epoch
      '7 e1 5 \n+a', // an empty writer
      '7 e1 5 w9 extra\n+a',
      '7 e1 5', // neither changes nor a seed
    ]) {
      expect(parseFeedMessage(message), message).toBeUndefined();
    }
  });
});
