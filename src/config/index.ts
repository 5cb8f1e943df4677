export { configSchema, type Config, type ConfigInput } from './schema.js';
export { loadConfig, secretValues, type LoadOptions } from './load.js';
export { settings, type Setting } from './settings.js';
