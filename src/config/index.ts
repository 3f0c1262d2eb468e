export { inertSettings } from './inert.js';
export { ConfigError, defaultConfig, loadConfig, nearest, parseConfig, validateConfig } from './load.js';
export { type AugmentationName, type AugmentBlock, type Config, ConfigSchema } from './schema.js';
