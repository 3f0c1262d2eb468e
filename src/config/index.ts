export { AUGMENTATIONS, type ConfigTree, type ConfigValue, DEFAULTS } from './defaults.js';
export { ConfigError, get, loadConfig, nearest, parseConfig } from './load.js';
