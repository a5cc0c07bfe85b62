// What a feature hands the app: its services (added to one registry), its REST routes, and
// start/stop. The app starts features in order, stops them in reverse, and knows none by its details.
import type { Config } from '../config.js';
import type { Database } from './db.js';
import type { LiveGauges } from './gauges.js';
import type { LimitCounters } from './limits.js';
import type { Logger } from './logger.js';
import type { EventBus } from './pubsub.js';
import type { RouteFamily } from './rest.js';

/**
 * The service registry: every feature adds its exported services here by declaration merging
 * (`declare module '…/lib/module.js' { interface Services { … } }`). GraphQL resolvers, REST
 * handlers and later features reach a feature only through these.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by each feature
export interface Services {}

interface FeatureContext {
  config: Config;
  db: Database;
  bus: EventBus;
  log: Logger;
  /** refusals by each limit, for the status endpoint */
  limits: LimitCounters;
  /** live counts other parts keep (open sockets, streams), for whoever reports them */
  gauges: LiveGauges;
  /** the services of the features built before this one */
  services: Services;
}

export interface FeatureInstance {
  services: Partial<Services>;
  rest?: RouteFamily[];
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
  /** what /readyz reports for this feature; `degraded`: serving, but part of it is down (a host) */
  readiness?(): FeatureReadiness | Promise<FeatureReadiness>;
}

interface FeatureReadiness {
  ready: boolean;
  degraded?: boolean;
  detail: Record<string, unknown>;
}

export interface Feature {
  name: string;
  create(ctx: FeatureContext): FeatureInstance | Promise<FeatureInstance>;
}
