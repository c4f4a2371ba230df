import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { registerHealth } from './health.js';
import { registerAssistants } from './assistants.js';
import { registerNumbers } from './numbers.js';
import { registerTrunks } from './trunks.js';
import { registerCalls } from './calls.js';
import { registerUsage } from './usage.js';
import { registerToolTemplates } from './toolTemplates.js';
import { registerAnalysisTemplates } from './analysisTemplates.js';
import { registerCampaigns } from './campaigns.js';
import { registerOrganizations } from './organizations.js';
import { registerByok } from './byok.js';
import { registerDomains } from './domains.js';
import { registerVoices } from './voices.js';

/** Every /api/v1 route; one file per resource. */
export function registerRoutes(app: FastifyInstance, deps: ApiDeps): void {
  registerHealth(app, deps);
  registerAssistants(app, deps);
  registerNumbers(app, deps);
  registerTrunks(app, deps);
  registerCalls(app, deps);
  registerUsage(app, deps);
  registerToolTemplates(app, deps);
  registerAnalysisTemplates(app, deps);
  registerCampaigns(app, deps);
  registerOrganizations(app, deps);
  registerByok(app, deps);
  registerDomains(app, deps);
  registerVoices(app, deps);
}
