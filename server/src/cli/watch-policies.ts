// Watches the policy directory and calls `onChange` once a burst of file events has settled:
// edits, new and removed files in any subdirectory, and the Kubernetes ConfigMap update, which
// swaps the `..data` symlink to a new timestamped directory in one rename (the files themselves
// are symlinks through `..data`, so only the directory entries change). Each directory gets
// its own watch, re-listed after every burst so new subdirectories are watched too.
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { RELATIONSHIP_FILE_EXTENSIONS } from '../policy/relationship-file.js';

/** Extensions of the files a policy directory is read from: YAML and bulk relationship files. */
const POLICY_EXTENSIONS = new Set(['.yaml', '.yml', ...RELATIONSHIP_FILE_EXTENSIONS]);

/**
 * Whether a change to `file` can change the policies: a policy or bulk relationship file, the
 * ConfigMap's `..data` swap, or a directory (no extension). Anything else, such as a log file
 * or an editor's swap file in the same directory, is ignored: a server writing its own log
 * there would otherwise reload on every line it logs, forever.
 */
export function mayAffectPolicies(file: string): boolean {
  const name = basename(file);
  // The kubelet's `..data` symlink and its timestamped `..2026_…` directories.
  if (file.includes('..data') || name.startsWith('..')) return true;
  const ext = extname(name).toLowerCase();
  return ext === '' || POLICY_EXTENSIONS.has(ext);
}

export interface PolicyWatcherOptions {
  /** Quiet time after the last event before `onChange` runs. Default 200 ms. */
  readonly debounceMs?: number;
  readonly logger?: Logger | undefined;
}

export interface PolicyWatcher {
  close(): void;
}

/** Start watching `dir`; `onChange(reason)` runs after each settled burst of changes. */
export function watchPolicyDirectory(
  dir: string,
  onChange: (reason: string) => void,
  options: PolicyWatcherOptions = {},
): PolicyWatcher {
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  let closed = false;
  let watchers: FSWatcher[] = [];

  const fire = (): void => {
    timer = undefined;
    if (closed) return;
    // Directories may have come or gone: watch the tree as it is now.
    reopen();
    onChange(last);
  };
  const changed = (file: string): void => {
    if (!mayAffectPolicies(file)) return;
    last = file.includes('..data') ? 'configmap swap (..data)' : `file ${file}`;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
    timer.unref();
  };
  const reopen = (): void => {
    for (const w of watchers) w.close();
    watchers = [];
    if (closed) return;
    for (const d of directories(dir)) {
      try {
        const w = watch(d, { persistent: false }, (_event, name) =>
          changed(name === null ? d : join(d, String(name))),
        );
        w.on('error', () => changed(d));
        watchers.push(w);
      } catch (err) {
        // Gone between listing and watching: the next burst re-lists.
        options.logger?.debug({ err: (err as Error).message, dir: d }, 'cannot watch policy directory');
      }
    }
  };
  reopen();
  return {
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}

/**
 * `dir` and every subdirectory not hidden: one plain (non-recursive) watch each, which sees
 * files created, changed, renamed over and removed, and the top-level `..data` rename of a
 * ConfigMap update. (A recursive watch loses track of a file replaced by a rename on some
 * platforms.) Hidden directories are skipped as the loader skips them.
 */
function directories(dir: string): string[] {
  const out = [dir];
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isDirectory()) continue;
      const full = join(entry.parentPath ?? entry.path, entry.name);
      if (
        relative(dir, full)
          .split(sep)
          .some((part) => part.startsWith('.'))
      )
        continue;
      out.push(full);
    }
  } catch {
    // Unreadable right now (mid-swap): the top-level watch still reports the next change.
  }
  return out;
}
