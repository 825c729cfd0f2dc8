// Test support: runs survival-child.ts under --unhandled-rejections=strict and reads back its outcomes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./survival-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every public call the child makes, by the name it reports. */
export const OPERATION_NAMES = [
  'check',
  'checkBatch',
  'explain',
  'lookupSubjects',
  'lookupResources.toArray',
  'lookupResources.pages',
  'read',
  'write',
  'deleteRelationships',
  'deleteObject',
  'readSchema',
  'validatePolicies',
  'watch',
] as const;

export interface Outcome {
  readonly scenario: string;
  readonly kind: 'grpc' | 'http';
  readonly op: string;
  /** 'resolved', 'ended' (a watch that stopped quietly) or the name of the error the call rejected with. */
  readonly outcome: string;
}

export interface SurvivalRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly survived: boolean;
  readonly outcomes: Outcome[];
  readonly stderr: string;
}

/** Run the child to its end (bounded by `timeoutMs`); `env` may point it at a real server. */
export function runSurvivalChild(
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<SurvivalRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--unhandled-rejections=strict', '--import', 'tsx', CHILD], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((line) => line !== '');
      resolve({
        exitCode,
        signal,
        survived: lines.includes('survived'),
        outcomes: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Outcome),
        stderr,
      });
    });
  });
}

/** The outcomes of one scenario and transport, by operation name. */
export function outcomesOf(
  run: SurvivalRun,
  scenario: string,
  kind: 'grpc' | 'http',
): Record<string, string> {
  const byOp: Record<string, string> = {};
  for (const o of run.outcomes) if (o.scenario === scenario && o.kind === kind) byOp[o.op] = o.outcome;
  return byOp;
}

/** What every aborted call must do: reject with CancelledError, except watch, which ends quietly. */
export function expectedWhenAborted(): Record<string, string> {
  return Object.fromEntries(OPERATION_NAMES.map((op) => [op, op === 'watch' ? 'ended' : 'CancelledError']));
}
