import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { notFound, Problems } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import {
  Assistant, AssistantCreate, AssistantUpdate, mergeAssistant, normaliseAssistant, normaliseContext, wantsLocalTts,
} from '../schemas/assistant.js';
import { orgOf } from './util.js';
import { schemaProblems } from '../validation.js';

type Obj = Record<string, unknown>;
const One = Type.Object({ assistant: Assistant });

/** Assistants (spec §3.1), also served at the deprecated /agents paths. */
export function registerAssistants(app: FastifyInstance, deps: ApiDeps): void {
  const ctx = (req: FastifyRequest, cfg: Obj) =>
    normaliseContext({ store: deps.store, voices: deps.voices, allowHttpWebhooks: deps.config.webhooks.allowHttp }, orgOf(req), 'saved', wantsLocalTts(cfg));

  for (const base of ['/assistants', '/agents']) {
    const deprecated = base === '/agents';
    const tags = ['Assistants'];
    app.get(base, { schema: { tags, deprecated, summary: 'List assistants', response: { 200: Type.Object({ assistants: Type.Array(Assistant) }) } } },
      async (req) => ({ assistants: deps.store.assistants.list(orgOf(req)) }));

    app.post(base, { schema: { tags, deprecated, summary: 'Create an assistant', body: AssistantCreate, response: { 201: One, ...errors(400, 401, 429) } } },
      async (req, reply) => {
        const body = req.body as Obj;
        const p = new Problems();
        const cfg = normaliseAssistant(body, await ctx(req, body), p);
        p.throwIfAny();
        return reply.status(201).send({ assistant: deps.store.assistants.create(orgOf(req), cfg) });
      });

    app.get(`${base}/:id`, { schema: { tags, deprecated, summary: 'Get an assistant', params: IdParams, response: { 200: One, ...errors(404) } } },
      async (req) => {
        const a = deps.store.assistants.get(orgOf(req), (req.params as { id: string }).id);
        if (!a) throw notFound('Assistant');
        return { assistant: a };
      });

    app.patch(`${base}/:id`, { schema: { tags, deprecated, summary: 'Update an assistant (nested configs merged one level deep)', params: IdParams, body: AssistantUpdate, response: { 200: One, ...errors(400, 404) } } },
      async (req) => {
        const org = orgOf(req);
        const id = (req.params as { id: string }).id;
        const stored = deps.store.assistants.get(org, id);
        if (!stored) throw notFound('Assistant');
        const { id: _i, created_at: _c, updated_at: _u, ...current } = stored;
        const merged = mergeAssistant(current, req.body as Obj);
        const p = new Problems();
        for (const problem of schemaProblems(AssistantCreate, merged)) p.list.push(problem);
        p.throwIfAny();
        const cfg = normaliseAssistant(merged, await ctx(req, merged), p);
        p.throwIfAny();
        return { assistant: deps.store.assistants.replace(org, id, cfg) };
      });

    app.delete(`${base}/:id`, { schema: { tags, deprecated, summary: 'Delete an assistant', params: IdParams, response: { 200: Success, ...errors(404) } } },
      async (req) => {
        if (!deps.store.assistants.delete(orgOf(req), (req.params as { id: string }).id)) throw notFound('Assistant');
        return { success: true };
      });
  }
}
