import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { registerHealth } from './health.js';
import { registerAssistants } from './assistants.js';

/** Every /api/v1 route; one file per resource. */
export function registerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  registerHealth(app, deps);
  registerAssistants(app, deps);
}
