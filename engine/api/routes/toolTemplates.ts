import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { notFound, Problems } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import {
  normaliseToolTemplateCreate, normaliseToolTemplateUpdate, ToolTemplate, ToolTemplateCreate, ToolTemplateUpdate,
} from '../schemas/templates.js';
import { schemaStage, throwProblems } from '../schemas/campaigns.js';
import { orgOf } from './util.js';

const One = Type.Object({ tool_template: ToolTemplate });
const tags = ['Tool templates'];
const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;

/**
 * Tool templates (spec §3.2, §4.19). Attach one to an assistant with `{ "tool_template_id": id }`
 * inside `llm_config.tools`: it is copied on write, so deleting the template never changes an
 * assistant.
 */
export function registerToolTemplates(app: FastifyInstance, deps: ApiDeps): void {
  const repo = deps.store.toolTemplates;

  app.get('/tool-templates', { schema: { tags, summary: 'List tool templates', response: { 200: Type.Object({ tool_templates: Type.Array(ToolTemplate) }) } } },
    async (req) => ({ tool_templates: repo.list(orgOf(req)) }));

  app.post('/tool-templates', { attachValidation: true, schema: { tags, summary: 'Create a tool template', body: ToolTemplateCreate, response: { 201: One, ...errors(400, 401, 429) } } },
    async (req, reply) => {
      const p = new Problems();
      const v = normaliseToolTemplateCreate(schemaStage(ToolTemplateCreate, req.body, !!req.validationError, p), p);
      throwProblems(p);
      return reply.status(201).send({ tool_template: repo.create(orgOf(req), v) });
    });

  app.get('/tool-templates/:id', { schema: { tags, summary: 'Get a tool template', params: IdParams, response: { 200: One, ...errors(404) } } },
    async (req) => {
      const t = repo.get(orgOf(req), idOf(req));
      if (!t) throw notFound('Tool template');
      return { tool_template: t };
    });

  app.patch('/tool-templates/:id', { attachValidation: true, schema: { tags, summary: 'Update a tool template (tool_config, when given, replaces the stored config)', params: IdParams, body: ToolTemplateUpdate, response: { 200: One, ...errors(400, 404) } } },
    async (req) => {
      const org = orgOf(req);
      const stored = repo.get(org, idOf(req));
      if (!stored) throw notFound('Tool template');
      const p = new Problems();
      const v = normaliseToolTemplateUpdate(stored, schemaStage(ToolTemplateUpdate, req.body, !!req.validationError, p), p);
      throwProblems(p);
      return { tool_template: repo.update(org, stored.id, v) };
    });

  app.delete('/tool-templates/:id', { schema: { tags, summary: 'Delete a tool template (assistants keep their copies)', params: IdParams, response: { 200: Success, ...errors(404) } } },
    async (req) => {
      if (!repo.delete(orgOf(req), idOf(req))) throw notFound('Tool template');
      return { success: true };
    });
}
