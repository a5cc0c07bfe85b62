export * from './connection.js';
export * from './errors.js';
export * from './timeout.js';
export * from './types.js';
export * from './demo-fleet.js';
export { statsGroupsMask, STATS_GROUP_BITS } from './flags.js';
export { libvirtVersion } from './native.js';
