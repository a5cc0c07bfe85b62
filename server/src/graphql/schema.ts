import { builder } from './builder.js';
import './scalars.js';
import './types/host.js';
import './types/vm.js';
import './types/token.js';
import './types/metrics.js';
import './types/collector.js';

export const schema = builder.toSchema({ sortSchema: false });
