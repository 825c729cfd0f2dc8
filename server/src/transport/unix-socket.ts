// Housekeeping for unix-socket listeners shared by both servers.
import { lstat, unlink } from 'node:fs/promises';

/**
 * A socket file left by a crashed process makes listen() fail with EADDRINUSE. Remove it before
 * binding — but only if it is a socket, never a regular file someone pointed us at by mistake.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stat = await lstat(path);
    if (stat.isSocket()) await unlink(path);
  } catch {
    // Absent: nothing to remove.
  }
}
