// The features, in the order the app starts them (and stops them in reverse). A new feature is a
// folder under features/ and one line here.
import type { Feature } from '../lib/module.js';
import { inventory } from './inventory/feature.js';
import { migrations } from './migrations/feature.js';
import { prometheus } from './prometheus/feature.js';
import { telemetry } from './telemetry/feature.js';
import { tokens } from './tokens/feature.js';

export const features: readonly Feature[] = [inventory, tokens, telemetry, prometheus, migrations];
