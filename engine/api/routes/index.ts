import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { registerHealth } from './health.js';
import { registerAssistants } from './assistants.js';
// imports: telephony resources (numbers, trunks, calls, usage)
// imports: templates and campaigns
// imports: organizations, byok, domains, voices

/** Every /api/v1 route; one file per resource. */
export function registerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  registerHealth(app, deps);
  registerAssistants(app, deps);
  // register: telephony resources (numbers, trunks, calls, usage)
  // register: templates and campaigns
  // register: organizations, byok, domains, voices
}
