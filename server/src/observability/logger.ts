// The structured JSON logger (pino). One per process; requests get a child with their id only
// when something is worth logging, so the check path never pays for a child logger.
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger } from 'pino';

/** A pino logger writing JSON lines to `destination` (stdout by default). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
