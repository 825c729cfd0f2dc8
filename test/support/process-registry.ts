// Test support: every child process a test starts is recorded here and killed when the test
// process exits, so a failed or interrupted suite never leaves a redis-server or gatehouse behind.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' handlers run synchronously: kill() and rmSync() are both synchronous.
  process.once('exit', () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          // A SIGSTOPped child ignores SIGKILL until continued on some kernels' views; send both.
          child.kill('SIGCONT');
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Kill `child` when the test process exits, unless it exited first. */
export function track(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Remove `dir` when the test process exits (stop() usually removes it earlier). */
export function trackDir(dir: string): void {
  hook();
  tempDirs.add(dir);
}

export function untrackDir(dir: string): void {
  tempDirs.delete(dir);
}
