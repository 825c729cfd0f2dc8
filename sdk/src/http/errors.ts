// The one place HTTP failures become typed SDK errors: status codes, error bodies, fetch failures.
import { cancelledError, deadlineError } from '../call.js';
import {
  type ErrorCode,
  errorFromCode,
  type GatehouseError,
  InternalError,
  UnavailableError,
} from '../errors.js';

// The server's table read backwards, for answers without a JSON error body (a proxy's 502,
// a body cut short). 409 is ambiguous (ALREADY_EXISTS/ABORTED); the body normally settles it.
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  413: 'RESOURCE_EXHAUSTED',
  415: 'INVALID_ARGUMENT',
  429: 'UNAVAILABLE',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** What went wrong with one HTTP exchange, before it is classified. */
export type HttpFailure =
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'thrown'; readonly error: unknown };

export interface FailureContext {
  readonly url: string;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** True once the transport aborted the exchange because the deadline passed. */
  readonly timedOut: () => boolean;
}

/** Map any HTTP failure to a GatehouseError. */
export function mapHttpFailure(failure: HttpFailure, ctx: FailureContext): GatehouseError {
  if (ctx.signal?.aborted) return cancelledError(ctx.signal);
  if (failure.kind === 'thrown') {
    if (ctx.deadline !== undefined && (ctx.timedOut() || Date.now() >= ctx.deadline))
      return deadlineError(ctx.deadline);
    // fetch rejects with a TypeError whose cause is the socket error (ECONNREFUSED, ECONNRESET...).
    const cause = (failure.error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const detail =
      typeof cause?.code === 'string'
        ? cause.code
        : String((failure.error as Error)?.message ?? failure.error);
    return new UnavailableError(
      `cannot reach the Gatehouse server at ${ctx.url} (${detail}); is it running?`,
      {
        cause: failure.error,
      },
    );
  }
  const parsed = parseErrorBody(failure.body);
  // CancelledError means "your signal aborted": a server that says it cancelled the call is
  // going away (or a proxy dropped it), which a later attempt may survive.
  if (parsed?.code === 'CANCELLED') return new UnavailableError(`${ctx.url}: ${parsed.message}`);
  if (parsed !== undefined) return errorFromCode(parsed.code, parsed.message, { field: parsed.field });
  const code = CODE_BY_STATUS[failure.status] ?? (failure.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
  const excerpt = failure.body.slice(0, 200).trim();
  return errorFromCode(code, `HTTP ${failure.status} from ${ctx.url}${excerpt === '' ? '' : `: ${excerpt}`}`);
}

/** A 2xx answer whose body is not the JSON message it should be. */
export function malformedResponse(url: string, cause: unknown): GatehouseError {
  return new InternalError(`the server at ${url} answered with a body that is not valid JSON`, { cause });
}

function parseErrorBody(
  body: string,
): { code: string; message: string; field: string | undefined } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string') return undefined;
  return {
    code: error.code,
    message: typeof error.message === 'string' ? error.message : '',
    field: typeof error.field === 'string' && error.field !== '' ? error.field : undefined,
  };
}
