// Token scopes, token files and the authorizer built from configuration.
import { readFileSync } from 'node:fs';
import type { Logger } from '../../observability/logger.js';
import { FilePoller } from './file-poller.js';
import { SCOPES, type Scope } from './scopes.js';
import { type Authorizer, OPEN_AUTHORIZER, TokenAuthorizer } from './token-authorizer.js';
import { parseTokenFile, type TokenGrant } from './token-file.js';

export { FilePoller } from './file-poller.js';
export { isScope, OPERATION_SCOPE, type Operation, parseScopeList, SCOPES, type Scope } from './scopes.js';
export { type Authorizer, OPEN_AUTHORIZER, TokenAuthorizer } from './token-authorizer.js';
export { parseTokenFile, TokenFileError, type TokenGrant, tokenProblem } from './token-file.js';

export interface AuthSettings {
  /** A single token with every scope (GATEHOUSE_TOKEN); fixed for the process's life. */
  readonly token: string | undefined;
  /** A token file, re-read every `reloadMs` (rotation without a restart). */
  readonly tokenFile: string | undefined;
  /** Scopes that need no token even though tokens are configured. */
  readonly openScopes: readonly Scope[];
  readonly reloadMs: number;
}

export interface RunningAuth {
  readonly authorizer: Authorizer;
  /** Stop re-reading the token file. */
  close(): void;
}

/**
 * The authorizer for these settings: open when no token is configured, otherwise tokens with
 * scopes. Throws TokenFileError if the token file is unusable at start. A token file that
 * later becomes unusable is logged and the last good tokens stay in force.
 */
export function startAuth(settings: AuthSettings, logger: Logger | undefined): RunningAuth {
  if (settings.token === undefined && settings.tokenFile === undefined) {
    return { authorizer: OPEN_AUTHORIZER, close: () => undefined };
  }
  const fixed: TokenGrant[] = settings.token === undefined ? [] : [{ token: settings.token, scopes: SCOPES }];
  const path = settings.tokenFile;
  if (path === undefined)
    return { authorizer: new TokenAuthorizer(fixed, settings.openScopes), close: () => undefined };
  const initial = readFileSync(path);
  const authorizer = new TokenAuthorizer(
    [...fixed, ...parseTokenFile(path, initial.toString('utf8'))],
    settings.openScopes,
  );
  const poller = new FilePoller({
    paths: [path],
    intervalMs: settings.reloadMs,
    initial: [initial],
    onChange: ([content]) => {
      try {
        authorizer.replace([...fixed, ...parseTokenFile(path, content!.toString('utf8'))]);
        logger?.info({ tokenFile: path, tokens: authorizer.tokenCount }, 'token file reloaded');
      } catch (err) {
        logger?.error(
          { tokenFile: path, err: (err as Error).message },
          'token file rejected: the previous tokens stay in force',
        );
      }
    },
    onError: (err) =>
      logger?.warn(
        { tokenFile: path, err: err.message },
        'token file unreadable: the previous tokens stay in force',
      ),
  });
  return { authorizer, close: () => poller.close() };
}
