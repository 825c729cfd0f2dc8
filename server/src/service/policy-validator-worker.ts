// Worker-thread entry of PolicyValidator: compiles submitted policy files off the main thread.
import { parentPort } from 'node:worker_threads';
import { PolicyError } from '../errors.js';
import type { PolicyFileSource } from '../policy/index.js';
import { compilePolicySet } from '../policy/index.js';

/** What the worker posts back for one job: a verdict, or an unexpected failure's message. */
export type WorkerReply =
  | { readonly valid: boolean; readonly problems: readonly unknown[] }
  | { readonly failure: string };

const port = parentPort;
if (port === null) throw new Error('policy-validator-worker must run in a worker thread');
port.on('message', (files: readonly PolicyFileSource[]) => {
  let reply: WorkerReply;
  try {
    compilePolicySet(files);
    reply = { valid: true, problems: [] };
  } catch (err) {
    // Problems are plain data (positions and messages), so they survive structured cloning.
    if (err instanceof PolicyError) reply = { valid: false, problems: err.problems };
    else reply = { failure: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});
