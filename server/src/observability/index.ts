// Public surface of observability: the logger and the per-server metrics.
export { createLogger, type Logger } from './logger.js';
export {
  GatehouseMetrics,
  MethodMetrics,
  type MetricsSource,
  type Outcome,
  type TransportName,
} from './metrics.js';
