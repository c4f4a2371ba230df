import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ApiError, conflict, notFound, Problems } from '../errors.js';
import { errors, IdParams, Success } from '../schemas/common.js';
import { numberView, PhoneNumber, PhoneNumberCreate, PhoneNumberUpdate } from '../schemas/numbers.js';
import { addNew, alias, bodyProblems, handlerChecksBody, isUniqueViolation } from '../schemas/telephony.js';
import { orgOf } from './util.js';

type Obj = Record<string, unknown>;
const One = Type.Object({ number: PhoneNumber });
const tags = ['Numbers'];

/** Phone numbers (spec §3.3): the mapping from an E.164 number to an assistant and a trunk. */
export function registerNumbers(app: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  /** Checks agent/trunk references of a create or update body; returns the resolved ids. */
  const references = (org: string, body: Obj, p: Problems) => {
    const agent = alias(body, 'agent_id', 'assistant_id', p);
    if (agent.present && typeof agent.value === 'string' && !store.assistants.get(org, agent.value)) {
      p.invalid(agent.param, 'does not name an assistant of this organization');
    }
    const trunkGiven = body.transfer_trunk_id !== undefined;
    const trunk = body.transfer_trunk_id as string | null | undefined;
    if (typeof trunk === 'string' && !store.trunks.get(org, trunk)) {
      p.invalid('transfer_trunk_id', 'does not name a SIP trunk of this organization');
    }
    return { agent, trunkGiven, trunk: trunk ?? null };
  };

  app.get('/numbers', { schema: { tags, summary: 'List phone numbers', response: { 200: Type.Object({ numbers: Type.Array(PhoneNumber) }) } } },
    async (req) => ({ numbers: store.numbers.list(orgOf(req)).map(numberView) }));

  const createSchema: FastifySchema = {
    tags, summary: 'Register a phone number',
    description: 'Maps an E.164 number (routed by your SIP provider to this engine) to an assistant. 409 when the number is registered in any organization.',
    body: PhoneNumberCreate, response: { 201: One, ...errors(400, 409) },
  };
  app.post('/numbers', { schema: createSchema, validatorCompiler: handlerChecksBody }, async (req, reply) => {
    const org = orgOf(req);
    const p = bodyProblems(PhoneNumberCreate, req.body);
    const body = req.body as Obj;
    const rules = new Problems();
    const refs = references(org, body, rules);
    addNew(p, rules);
    p.throwIfAny();
    const phone = body.phone_number as string;
    if (store.numbers.findByE164(phone)) throw conflict(`Phone number ${phone} is already registered`, 'conflict', 'phone_number');
    try {
      const n = store.numbers.create(org, {
        phone_number: phone,
        name: (body.name as string | null | undefined) ?? null,
        agent_id: (refs.agent.value as string | null | undefined) ?? null,
        transfer_trunk_id: refs.trunk,
        workflow_id: (body.workflow_id as string | null | undefined) ?? null,
        is_active: body.is_active !== false,
      });
      return await reply.status(201).send({ number: numberView(n) });
    } catch (err) {
      // Two registrations racing past the check above: the UNIQUE index decides.
      if (isUniqueViolation(err)) throw conflict(`Phone number ${phone} is already registered`, 'conflict', 'phone_number');
      throw err;
    }
  });

  app.get('/numbers/:id', { schema: { tags, summary: 'Get a phone number', params: IdParams, response: { 200: One, ...errors(404) } } },
    async (req) => {
      const n = store.numbers.get(orgOf(req), (req.params as { id: string }).id);
      if (!n) throw notFound('Phone number');
      return { number: numberView(n) };
    });

  const updateSchema: FastifySchema = {
    tags, summary: 'Update a phone number',
    description: '`agent_id: null` unassigns the assistant (calls are then not handled); `transfer_trunk_id` sets or clears the trunk. `phone_number` is immutable (400).',
    params: IdParams, body: PhoneNumberUpdate, response: { 200: One, ...errors(400, 404) },
  };
  app.patch('/numbers/:id', { schema: updateSchema, validatorCompiler: handlerChecksBody }, async (req) => {
    const org = orgOf(req);
    const id = (req.params as { id: string }).id;
    const current = store.numbers.get(org, id);
    if (!current) throw notFound('Phone number');
    const p = bodyProblems(PhoneNumberUpdate, req.body);
    const body = req.body as Obj;
    const rules = new Problems();
    if (body.phone_number !== undefined) rules.invalid('phone_number', 'is immutable; delete the number and register the new one');
    const refs = references(org, body, rules);
    addNew(p, rules);
    p.throwIfAny();
    const n = store.numbers.update(org, id, {
      name: body.name !== undefined ? (body.name as string | null) : current.name,
      agent_id: refs.agent.present ? (refs.agent.value as string | null) : current.agent_id,
      transfer_trunk_id: refs.trunkGiven ? refs.trunk : current.transfer_trunk_id,
      workflow_id: body.workflow_id !== undefined ? (body.workflow_id as string | null) : current.workflow_id,
      is_active: typeof body.is_active === 'boolean' ? body.is_active : current.is_active,
    });
    if (!n) throw notFound('Phone number');
    return { number: numberView(n) };
  });

  app.delete('/numbers/:id', {
    schema: {
      tags, summary: 'Delete a phone number',
      description: '409 while a `scheduled` campaign uses this number as its caller ID.',
      params: IdParams, response: { 200: Success, ...errors(404, 409) },
    },
  }, async (req) => {
    const org = orgOf(req);
    const id = (req.params as { id: string }).id;
    if (!store.numbers.get(org, id)) throw notFound('Phone number');
    const r = store.numbers.deleteUnlessInUse(org, id);
    if (r.usedBy.length) {
      throw new ApiError(409, 'conflict',
        `Phone number is the caller ID of scheduled campaign${r.usedBy.length > 1 ? 's' : ''} ${r.usedBy.map((c) => `"${c.name}" (${c.id})`).join(', ')}; pause or cancel the campaign first`);
    }
    if (!r.deleted) throw notFound('Phone number');
    return { success: true };
  });
}
