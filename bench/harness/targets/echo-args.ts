// Flags shared by the echo servers: where to listen, an artificial delay, and a forced failure,
// so the harness's own numbers can be checked against a server whose behaviour is known.
import { parseArgs } from 'node:util';

export interface EchoArgs {
  readonly listen: string;
  readonly delayMs: number;
  /** HTTP status or gRPC status code to answer every call with, instead of a decision. */
  readonly fail: number | undefined;
}

export function parseEchoArgs(argv: readonly string[], flag: 'http' | 'grpc'): EchoArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      [flag]: { type: 'string', default: '127.0.0.1:0' },
      'delay-ms': { type: 'string', default: '0' },
      fail: { type: 'string' },
    },
  });
  const delayMs = Number(values['delay-ms']);
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw new Error(`--delay-ms '${values['delay-ms']}' must be a number >= 0`);
  const fail = values.fail === undefined ? undefined : Number(values.fail);
  return { listen: String(values[flag]), delayMs, fail };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ready line Gatehouse logs, so one launcher reads addresses from every target. */
export function logReady(fields: Record<string, string>): void {
  process.stdout.write(`${JSON.stringify({ level: 30, msg: 'ready', ...fields })}\n`);
}
