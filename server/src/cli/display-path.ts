// Policy positions are relative to the policy root; the CLI shows them relative to the
// working directory, so `file:line` in its output opens from the shell or an editor.
import { join } from 'node:path';

export function displayPath(root: string, file: string): string {
  return join(root, file);
}
