import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { notFound, Problems } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import { normaliseTrunk, SipTrunk, SipTrunkCreate, trunkView } from '../schemas/trunks.js';
import { addNew, bodyProblems, handlerChecksBody } from '../schemas/telephony.js';
import { orgOf } from './util.js';

const One = Type.Object({ trunk: SipTrunk });
const tags = ['SIP trunks'];

/** SIP trunks (spec §3.7): list, create, get, delete. There is no update endpoint (FOUND). */
export function registerTrunks(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  app.get('/sip-trunks', { schema: { tags, summary: 'List SIP trunks', response: { 200: Type.Object({ trunks: Type.Array(SipTrunk) }) } } },
    async (req) => ({ trunks: store.trunks.list(orgOf(req)).map(trunkView) }));

  const createSchema: FastifySchema = {
    tags, summary: 'Create a SIP trunk',
    description: 'Connects the engine to a carrier or PBX for transfers and outbound dialling. Accepts `address` (aliases `outbound_address`, or `host` + `port`), `auth_username`/`username` and `auth_password`/`password` (write-only, stored encrypted).',
    body: SipTrunkCreate, response: { 201: One, ...errors(400) },
  };
  app.post('/sip-trunks', { schema: createSchema, validatorCompiler: handlerChecksBody }, async (req, reply) => {
    // Schema problems and cross-field problems (address aliases, credentials) are listed together.
    const p = bodyProblems(SipTrunkCreate, req.body);
    const rules = new Problems();
    const input = normaliseTrunk(req.body as Record<string, unknown>, rules);
    addNew(p, rules);
    p.throwIfAny();
    return reply.status(201).send({ trunk: trunkView(store.trunks.create(orgOf(req), input)) });
  });

  app.get('/sip-trunks/:id', { schema: { tags, summary: 'Get a SIP trunk', params: IdParams, response: { 200: One, ...errors(404) } } },
    async (req) => {
      const t = store.trunks.get(orgOf(req), (req.params as { id: string }).id);
      if (!t) throw notFound('SIP trunk');
      return { trunk: trunkView(t) };
    });

  app.delete('/sip-trunks/:id', {
    schema: {
      tags, summary: 'Delete a SIP trunk',
      description: 'Numbers that used the trunk keep working for inbound calls; their `transfer_trunk_id` becomes null.',
      params: IdParams, response: { 200: Success, ...errors(404) },
    },
  }, async (req) => {
    if (!store.trunks.delete(orgOf(req), (req.params as { id: string }).id)) throw notFound('SIP trunk');
    return { success: true };
  });
}
