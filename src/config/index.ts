/** Project configuration: `maestro.config.json` / `.yaml`, its schema and loader. */
export { agentNames, configJsonSchema, configSchema } from './schema.js';
export type { MaestroConfig } from './schema.js';
export { ConfigError, configFileNames, findConfigFile, loadConfig, parseConfig } from './load.js';
