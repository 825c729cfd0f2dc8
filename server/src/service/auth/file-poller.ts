// Re-reads a few small files on an interval and reports when their bytes change: how mounted
// Secrets (tokens, certificates) are picked up after rotation without a restart.
import { readFile } from 'node:fs/promises';

export interface FilePollerOptions {
  readonly paths: readonly string[];
  readonly intervalMs: number;
  /** The contents the caller already loaded, in `paths` order; changes are relative to these. */
  readonly initial: readonly Buffer[];
  /** Called with every file's new contents when any of them changed. */
  readonly onChange: (contents: readonly Buffer[]) => void;
  /** A file could not be read (mid-rotation, removed): the last contents stay in force. */
  readonly onError: (err: Error) => void;
}

/**
 * Polling rather than fs.watch: Kubernetes rotates a mounted Secret by swapping a symlink to a
 * new directory, which an inode watch on the old file never sees; reading a few hundred bytes
 * a second costs nothing. Comparing bytes, not mtimes, catches a rewrite within one second.
 */
export class FilePoller {
  readonly #options: FilePollerOptions;
  #last: readonly Buffer[];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(options: FilePollerOptions) {
    this.#options = options;
    this.#last = options.initial;
    this.#timer = setInterval(() => void this.#tick(), options.intervalMs);
    // Never keeps the process alive on its own.
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const contents = await Promise.all(this.#options.paths.map((p) => readFile(p)));
      if (this.#timer === undefined) return;
      if (contents.every((c, i) => this.#last[i]?.equals(c) === true)) return;
      this.#last = contents;
      this.#options.onChange(contents);
    } catch (err) {
      this.#options.onError(err as Error);
    } finally {
      this.#busy = false;
    }
  }
}
