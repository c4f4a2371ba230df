export { loadConfig, ConfigError } from './load.js';
export { DEFAULTS, LOG_LEVELS, PROVIDER_NAMES } from './schema.js';
export type { EngineConfig, LogLevel, ProviderName, ProviderEndpoint } from './schema.js';
