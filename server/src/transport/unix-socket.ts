// Housekeeping for unix-socket listeners shared by both servers.
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';

/** Whether something accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    // ECONNREFUSED: a socket file nobody listens on (its process died).
    probe.once('error', () => resolve(false));
  });
}

/**
 * A socket file left by a crashed process makes listen() fail with EADDRINUSE. Remove it before
 * binding — but only if it is a socket nobody answers on: never a regular file someone pointed
 * us at by mistake, and never the live socket of another running instance (taking that over
 * would leave the first orphaned, serving nobody).
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return; // Absent: nothing to remove.
  }
  if (!isSocket) return;
  if (await answers(path)) {
    throw new Error(`another process is listening on ${path}: stop it or choose another socket path`);
  }
  await unlink(path).catch(() => undefined);
}
