// Entry point of a forked load-worker process: receives one LoadSpec over IPC, runs it, reports.
// Load comes from a separate process so the client's CPU is not charged to the target's.
import { runLoadLoop } from './load-loop.js';
import type { WorkerMessage, WorkerRequest } from './types.js';

function send(message: WorkerMessage): void {
  process.send?.(message);
}

process.once('message', (request: WorkerRequest) => {
  runLoadLoop(request.spec).then(
    (report) => send({ type: 'report', report }),
    (err: unknown) =>
      send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
