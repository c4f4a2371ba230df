import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ApiError, conflict, notFound, Problems } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import {
  Campaign, CampaignCreate, CampaignLead, CampaignLeadCreate, CampaignUpdate, campaignOut, checkTransition, leadOut,
  normaliseCampaign, normaliseLead, normaliseLeads, schemaStage, throwProblems,
} from '../schemas/campaigns.js';
import type { CampaignRecord, CampaignStatus } from '../../store/repos/campaigns.js';
import { orgOf } from './util.js';

type Obj = Record<string, unknown>;
const One = Type.Object({ campaign: Campaign });
const tags = ['Campaigns'];
const LeadParams = Type.Object({ id: Type.String(), leadId: Type.String() });
const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;
const completed = (): ApiError => conflict('The campaign is completed and can no longer be changed', 'campaign_completed');

/** Campaigns and their leads (spec §3.13, §4.22, §8.4). The dialler itself lives in engine/campaigns. */
export function registerCampaigns(app: FastifyInstance, deps: ApiDeps): void {
  const repo = deps.store.campaigns;
  const ctx = (req: FastifyRequest) => ({ store: deps.store, orgId: orgOf(req), defaultTimezone: deps.config.defaults.timezone });
  const find = (req: FastifyRequest): CampaignRecord => {
    const c = repo.get(orgOf(req), idOf(req));
    if (!c) throw notFound('Campaign');
    return c;
  };

  app.get('/campaigns', { schema: { tags, summary: 'List campaigns', response: { 200: Type.Object({ campaigns: Type.Array(Campaign) }) } } },
    async (req) => ({ campaigns: repo.list(orgOf(req)).map(campaignOut) }));

  app.post('/campaigns', { attachValidation: true, schema: { tags, summary: 'Create a campaign (always a draft), optionally with leads', body: CampaignCreate, response: { 201: One, ...errors(400, 401, 429) } } },
    async (req, reply) => {
      const org = orgOf(req);
      const p = new Problems();
      const body = schemaStage(CampaignCreate, req.body, !!req.validationError, p);
      const v = normaliseCampaign(body, ctx(req), p);
      const leads = normaliseLeads(body.leads, p);
      throwProblems(p);
      const created = repo.tx(() => {
        const c = repo.create(org, { ...v, status: 'draft' });
        for (const l of leads) repo.addLead(c.id, l);
        return repo.get(org, c.id) as CampaignRecord;
      });
      return reply.status(201).send({ campaign: campaignOut(created) });
    });

  app.get('/campaigns/:id', { schema: { tags, summary: 'Get a campaign', params: IdParams, response: { 200: One, ...errors(404) } } },
    async (req) => ({ campaign: campaignOut(find(req)) }));

  app.patch('/campaigns/:id', {
    attachValidation: true,
    schema: {
      tags, summary: 'Update a campaign or change its status (scheduled starts dialling, paused stops, cancelled skips the pending leads)',
      params: IdParams, body: CampaignUpdate, response: { 200: One, ...errors(400, 404, 409) },
    },
  }, async (req) => {
    const org = orgOf(req);
    const stored = find(req);
    if (stored.status === 'completed') throw completed();
    const p = new Problems();
    const body = schemaStage(CampaignUpdate, req.body, !!req.validationError, p);
    const v = normaliseCampaign(body, ctx(req), p, stored);
    throwProblems(p);
    const to = (body.status as CampaignStatus | undefined) ?? stored.status;
    const tr = checkTransition(stored.status, to, to === 'draft' && stored.status === 'scheduled' && repo.attemptMade(stored.id));
    if (!tr.ok) throw new ApiError(tr.status, tr.status === 400 ? 'invalid_value' : 'conflict', tr.message, { param: 'status' });
    const updated = repo.tx(() => {
      if (to === 'cancelled' && stored.status !== 'cancelled') repo.skipPendingLeads(stored.id);
      return repo.update(org, stored.id, { ...v, status: to }) as CampaignRecord;
    });
    return { campaign: campaignOut(updated) };
  });

  app.delete('/campaigns/:id', { schema: { tags, summary: 'Delete a campaign and its leads (not while one of its calls is live: pause first)', params: IdParams, response: { 200: Success, ...errors(404, 409) } } },
    async (req) => {
      const c = find(req);
      if (c.status === 'completed') throw completed();
      if (c.lead_counts.calling > 0) throw conflict('The campaign has calls in progress; pause it and wait for them to end before deleting it');
      repo.delete(orgOf(req), c.id);
      return { success: true };
    });

  app.get('/campaigns/:id/leads', { schema: { tags, summary: 'List the leads of a campaign (oldest first, no pagination)', params: IdParams, response: { 200: Type.Object({ leads: Type.Array(CampaignLead) }), ...errors(404) } } },
    async (req) => ({ leads: repo.leads(find(req).id).map(leadOut) }));

  app.post('/campaigns/:id/leads', { schema: { tags, summary: 'Add a lead to a campaign', params: IdParams, body: CampaignLeadCreate, response: { 201: Type.Object({ lead: CampaignLead }), ...errors(400, 404, 409) } } },
    async (req, reply) => {
      const c = find(req);
      if (c.status === 'completed') throw completed();
      if (c.status === 'cancelled') throw conflict('The campaign is cancelled; leads can no longer be added');
      const lead = normaliseLead(req.body as Obj);
      const added = repo.tx(() => {
        if (repo.hasLeadNumber(c.id, lead.phone_number)) throw conflict(`${lead.phone_number} is already a lead of this campaign`, 'conflict', 'phone_number');
        return repo.addLead(c.id, lead);
      });
      return reply.status(201).send({ lead: leadOut(added) });
    });

  app.delete('/campaigns/:id/leads/:leadId', { schema: { tags, summary: 'Remove a lead (not while it is being called)', params: LeadParams, response: { 200: Success, ...errors(404, 409) } } },
    async (req) => {
      const c = find(req);
      const leadId = (req.params as { leadId: string }).leadId;
      const lead = repo.lead(c.id, leadId);
      if (!lead) throw notFound('Lead');
      if (c.status === 'completed') throw completed();
      if (lead.status === 'calling') throw conflict('The lead is being called; it can be removed once the call has ended', 'lead_in_progress');
      repo.deleteLead(c.id, lead.id);
      return { success: true };
    });
}
