import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import {
  AnalysisTemplateCreate, AnalysisTemplateList, AnalysisTemplateOne, AnalysisTemplateUpdate, analysisTemplateOut, normaliseAnalysisTemplate,
} from '../schemas/templates.js';
import type { AnalysisTemplateRecord } from '../../store/repos/templates.js';
import { orgOf } from './util.js';

type Obj = Record<string, unknown>;
const tags = ['Analysis templates'];
const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;
/** Both wrapper keys on every response (spec §4.21). */
const one = (r: AnalysisTemplateRecord): Obj => {
  const t = analysisTemplateOut(r);
  return { analysis_template: t, analysisTemplate: t };
};

/**
 * Analysis templates (spec §3.11, §4.21). Use one from an assistant with
 * `analysis_plan.structured_data_plan.template_id`: schema and prompts are copied on write.
 */
export function registerAnalysisTemplates(app: FastifyInstance, deps: ApiDeps): void {
  const repo = deps.store.analysisTemplates;

  app.get('/analysis-templates', { schema: { tags, summary: 'List analysis templates (under both analysis_templates and analysisTemplates)', response: { 200: AnalysisTemplateList } } },
    async (req) => {
      const list = repo.list(orgOf(req)).map(analysisTemplateOut);
      return { analysis_templates: list, analysisTemplates: list };
    });

  app.post('/analysis-templates', { schema: { tags, summary: 'Create an analysis template', body: AnalysisTemplateCreate, response: { 201: AnalysisTemplateOne, ...errors(400, 401, 429) } } },
    async (req, reply) => reply.status(201).send(one(repo.create(orgOf(req), normaliseAnalysisTemplate(req.body as Obj)))));

  app.get('/analysis-templates/:id', { schema: { tags, summary: 'Get an analysis template', params: IdParams, response: { 200: AnalysisTemplateOne, ...errors(404) } } },
    async (req) => {
      const t = repo.get(orgOf(req), idOf(req));
      if (!t) throw notFound('Analysis template');
      return one(t);
    });

  app.patch('/analysis-templates/:id', { schema: { tags, summary: 'Update an analysis template', params: IdParams, body: AnalysisTemplateUpdate, response: { 200: AnalysisTemplateOne, ...errors(400, 404) } } },
    async (req) => {
      const org = orgOf(req);
      const stored = repo.get(org, idOf(req));
      if (!stored) throw notFound('Analysis template');
      return one(repo.update(org, stored.id, normaliseAnalysisTemplate(req.body as Obj, stored)) as AnalysisTemplateRecord);
    });

  app.delete('/analysis-templates/:id', { schema: { tags, summary: 'Delete an analysis template (assistants keep their copies)', params: IdParams, response: { 200: Success, ...errors(404) } } },
    async (req) => {
      if (!repo.delete(orgOf(req), idOf(req))) throw notFound('Analysis template');
      return { success: true };
    });
}
