// Public surface of the config module.
export {
  DEFAULT_CONFIG,
  DEFAULT_LIMITS,
  type GatehouseConfig,
  type Limits,
  LOG_LEVELS,
  type LogLevel,
} from './config.js';
export {
  formatListenAddress,
  isLocalOnly,
  type ListenAddress,
  parseListenAddress,
} from './listen-address.js';
export { buildConfig, ConfigError, type ConfigSources, loadConfig } from './load-config.js';
export { OPTIONS, type OptionSpec } from './options.js';
export { redactConfig } from './redact.js';
export { serveUsage } from './usage.js';
