/**
 * Campaigns and campaign leads (spec §3.13, §4.22, §8.4): schemas, normalisation and the
 * status transitions a client may make. The engine extensions (`schedule_days`,
 * `max_concurrency`, `lead_counts`, `last_error`) are documented in the schema descriptions.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { IANAZone } from 'luxon';
import type { CampaignInput, CampaignRecord, CampaignStatus, LeadRecord } from '../../store/repos/campaigns.js';
import type { Store } from '../../store/index.js';
import { type Problems, validationError } from '../errors.js';
import { schemaProblems } from '../validation.js';
import { E164, E164_RE, Enum, Nullable, Timestamp, Uuid } from './common.js';

type Obj = Record<string, unknown>;

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'paused', 'completed', 'cancelled'] as const;
/** What a client may set; `completed` is set only by the engine. */
export const CLIENT_STATUSES = ['draft', 'scheduled', 'paused', 'cancelled'] as const;
export const LEAD_STATUSES = ['pending', 'calling', 'completed', 'failed', 'skipped'] as const;
export const MAX_LEADS_PER_REQUEST = 10_000;

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const Time = (description: string) => Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$', description: `${description}; HH:MM:SS (HH:MM accepted and normalised), 24-hour clock in the campaign timezone` });
const Variables = Type.Record(Type.String(), Type.String(), { description: 'string -> string, filled into {{key}} placeholders of system_message_template' });

const LeadCounts = Type.Object({
  pending: Type.Integer(), calling: Type.Integer(), completed: Type.Integer(), failed: Type.Integer(), skipped: Type.Integer(),
}, { description: 'Engine extension: number of leads in each status' });

export const Campaign = Type.Object({
  id: Uuid,
  name: Type.String(),
  agent_id: Uuid,
  status: Enum(CAMPAIGN_STATUSES, { description: 'draft (created), scheduled (dialling inside the window), paused, completed (set by the engine when no lead is pending or calling; immutable), cancelled' }),
  system_message_template: Nullable(Type.String({ description: '{{variable}} placeholders filled per lead ({{phone_number}} too); unknown keys become empty' })),
  schedule_start_time: Type.String({ description: 'Daily window start, HH:MM:SS' }),
  schedule_end_time: Type.String({ description: 'Daily window end, HH:MM:SS; earlier than the start means the window spans midnight' }),
  timezone: Type.String({ description: 'IANA time zone of the window, e.g. Europe/Amsterdam' }),
  schedule_days: Nullable(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { description: 'Engine extension: ISO weekdays (1 = Monday .. 7 = Sunday) on which the window applies; null = every day' })),
  max_concurrency: Nullable(Type.Integer({ minimum: 1, maximum: 100, description: 'Engine extension: simultaneous calls of this campaign; null = the engine default' })),
  total_leads: Type.Integer(),
  completed_leads: Type.Integer(),
  failed_leads: Type.Integer(),
  lead_counts: LeadCounts,
  last_error: Nullable(Type.String({ description: 'Engine extension: why the dialler cannot place calls (e.g. no outbound number), null when fine' })),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { description: 'Campaign' });

export const CampaignLead = Type.Object({
  id: Uuid,
  campaign_id: Uuid,
  phone_number: E164,
  variables: Variables,
  status: Enum(LEAD_STATUSES),
  call_id: Nullable(Type.String()),
  attempts: Type.Integer(),
  last_attempt_at: Nullable(Timestamp),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { description: 'CampaignLead' });

export const CampaignLeadCreate = Type.Object({
  phone_number: E164,
  variables: Type.Optional(Variables),
  name: Type.Optional(Type.String({ description: 'Legacy: stored as variables.name unless variables has a name' })),
}, { additionalProperties: true, description: 'CampaignLeadCreate' });

const writable = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  agent_id: Type.String({ description: 'Assistant of this organization that makes the calls' }),
  assistant_id: Type.String({ description: 'Alias of agent_id' }),
  system_message_template: Nullable(Type.String()),
  schedule_start_time: Time('Daily window start (default 09:00:00)'),
  schedule_end_time: Time('Daily window end (default 17:00:00)'),
  timezone: Type.String({ minLength: 1, description: 'IANA time zone (default: the engine default time zone)' }),
  schedule_days: Nullable(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, description: 'Engine extension: ISO weekdays 1..7; null = every day' })),
  max_concurrency: Nullable(Type.Integer({ minimum: 1, maximum: 100, description: 'Engine extension: 1..100; null = engine default' })),
};

/** The writable fields both bodies take as optional. */
const optionalWritable = {
  agent_id: Type.Optional(writable.agent_id),
  assistant_id: Type.Optional(writable.assistant_id),
  system_message_template: Type.Optional(writable.system_message_template),
  schedule_start_time: Type.Optional(writable.schedule_start_time),
  schedule_end_time: Type.Optional(writable.schedule_end_time),
  timezone: Type.Optional(writable.timezone),
  schedule_days: Type.Optional(writable.schedule_days),
  max_concurrency: Type.Optional(writable.max_concurrency),
};

export const CampaignCreate = Type.Object({
  name: writable.name,
  ...optionalWritable,
  leads: Type.Optional(Type.Array(CampaignLeadCreate, { maxItems: MAX_LEADS_PER_REQUEST, description: 'Leads added with the campaign; all are checked first, none is written if one is invalid' })),
}, { additionalProperties: true, description: 'CampaignCreate: agent_id (or assistant_id) required; the campaign is always created as draft' });

export const CampaignUpdate = Type.Object({
  name: Type.Optional(writable.name),
  status: Type.Optional(Enum(CLIENT_STATUSES, { description: 'draft -> scheduled; scheduled <-> paused; draft|scheduled|paused -> cancelled; scheduled -> draft only before any call attempt. "completed" is set only by the engine' })),
  ...optionalWritable,
}, { additionalProperties: true, description: 'CampaignUpdate: only given fields change' });

/**
 * Routes that list every problem of a body register with `attachValidation: true`: the schema's
 * problems are collected here, then the route's own checks add theirs (one problem per field).
 * A body that is not even an object fails at once.
 */
export function schemaStage(schema: TSchema, body: unknown, failed: boolean, p: Problems): Obj {
  if (!failed) return body as Obj;
  const problems = schemaProblems(schema, body);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validationError(problems);
  p.list.push(...problems);
  return body as Obj;
}

/** Throws the collected problems, keeping only the first per field. */
export function throwProblems(p: Problems): void {
  const seen = new Set<string>();
  const unique = p.list.filter((x) => (seen.has(x.param) ? false : (seen.add(x.param), true)));
  if (unique.length) throw validationError(unique);
}

/** `9:05` is rejected by the schema; `09:05` -> `09:05:00`. */
export function normaliseTime(v: string): string {
  const m = TIME_RE.exec(v);
  return m ? `${m[1]}:${m[2]}:${m[3] ?? '00'}` : v;
}

export const campaignOut = (c: CampaignRecord): Obj => ({
  id: c.id, name: c.name, agent_id: c.agent_id, status: c.status, system_message_template: c.system_message_template,
  schedule_start_time: c.schedule_start_time, schedule_end_time: c.schedule_end_time, timezone: c.timezone,
  schedule_days: c.schedule_days, max_concurrency: c.max_concurrency,
  total_leads: c.total_leads, completed_leads: c.completed_leads, failed_leads: c.failed_leads, lead_counts: c.lead_counts,
  last_error: c.last_error, created_at: c.created_at, updated_at: c.updated_at,
});

export const leadOut = (l: LeadRecord): Obj => ({
  id: l.id, campaign_id: l.campaign_id, phone_number: l.phone_number, variables: l.variables, status: l.status,
  call_id: l.call_id, attempts: l.attempts, last_attempt_at: l.last_attempt_at, created_at: l.created_at, updated_at: l.updated_at,
});

/**
 * A campaign body (create, or PATCH over `stored`) -> the campaign to store, status excluded
 * (transitions are checked by the route). Problems are collected in `p`.
 */
export function normaliseCampaign(body: Obj, ctx: { store: Store; orgId: string; defaultTimezone: string }, p: Problems, stored?: CampaignRecord): CampaignInput {
  let agent = stored?.agent_id;
  const a = body.agent_id;
  const b = body.assistant_id;
  if (a !== undefined && b !== undefined && a !== b) p.invalid('assistant_id', 'must equal agent_id when both are given');
  const given = a ?? b;
  if (given !== undefined) {
    const param = a !== undefined ? 'agent_id' : 'assistant_id';
    if (typeof given !== 'string' || !ctx.store.assistants.get(ctx.orgId, given)) p.invalid(param, 'does not name an assistant of this organization');
    agent = String(given);
  } else if (agent === undefined) {
    p.missing('agent_id');
  }

  const time = (k: 'schedule_start_time' | 'schedule_end_time', def: string): string =>
    typeof body[k] === 'string' ? normaliseTime(body[k] as string) : stored ? stored[k] : def;
  const start = time('schedule_start_time', '09:00:00');
  const end = time('schedule_end_time', '17:00:00');
  if (start === end) p.invalid('schedule_end_time', 'must differ from schedule_start_time (an empty window never dials)');

  const timezone = typeof body.timezone === 'string' ? body.timezone : stored ? stored.timezone : ctx.defaultTimezone;
  if (typeof body.timezone === 'string' && !IANAZone.isValidZone(body.timezone)) {
    p.invalid('timezone', 'must be an IANA time zone such as Europe/Amsterdam');
  }

  let days = stored ? stored.schedule_days : null;
  if (body.schedule_days !== undefined) {
    days = Array.isArray(body.schedule_days) ? [...new Set(body.schedule_days as number[])].sort((x, y) => x - y) : null;
  }
  const pick = <K extends 'name' | 'system_message_template' | 'max_concurrency'>(k: K, def: CampaignInput[K]): CampaignInput[K] =>
    body[k] !== undefined ? (body[k] as CampaignInput[K]) : stored ? stored[k] : def;

  return {
    name: pick('name', ''),
    agent_id: agent ?? '',
    status: stored?.status ?? 'draft',
    system_message_template: pick('system_message_template', null),
    schedule_start_time: start,
    schedule_end_time: end,
    timezone,
    schedule_days: days,
    max_concurrency: pick('max_concurrency', null),
  };
}

export interface LeadInput {
  phone_number: string;
  variables: Record<string, string>;
}

/** One lead body (already schema-checked) -> the lead to store; legacy `name` -> variables.name. */
export function normaliseLead(body: Obj): LeadInput {
  const given = body.variables;
  const variables: Record<string, string> = typeof given === 'object' && given !== null && !Array.isArray(given) ? { ...(given as Record<string, string>) } : {};
  if (typeof body.name === 'string' && variables.name === undefined) variables.name = body.name;
  return { phone_number: String(body.phone_number), variables };
}

/** Bulk leads at creation: duplicates within the request are problems (the schema checked E.164). */
export function normaliseLeads(raw: unknown, p: Problems): LeadInput[] {
  if (!Array.isArray(raw)) return [];
  const seen = new Map<string, number>();
  return raw.map((l, i) => {
    const lead = normaliseLead(typeof l === 'object' && l !== null ? (l as Obj) : {});
    if (E164_RE.test(lead.phone_number)) {
      const first = seen.get(lead.phone_number);
      if (first !== undefined) p.invalid(`leads[${i}].phone_number`, `duplicates leads[${first}].phone_number (${lead.phone_number})`);
      else seen.set(lead.phone_number, i);
    }
    return lead;
  });
}

export type Transition = { ok: true } | { ok: false; status: 400 | 409; message: string };

/**
 * Client status changes (spec §8.4): draft -> scheduled; scheduled <-> paused;
 * draft|scheduled|paused -> cancelled; scheduled -> draft only when no attempt was made.
 * Setting the current status again is a no-op.
 */
export function checkTransition(from: CampaignStatus, to: CampaignStatus, attemptMade: boolean): Transition {
  if (to === 'completed') return { ok: false, status: 400, message: 'status "completed" is set only by the engine' };
  if (from === to) return { ok: true };
  const allowed: Record<CampaignStatus, readonly CampaignStatus[]> = {
    draft: ['scheduled', 'cancelled'],
    scheduled: ['paused', 'cancelled', 'draft'],
    paused: ['scheduled', 'cancelled'],
    completed: [],
    cancelled: [],
  };
  if (!allowed[from].includes(to)) return { ok: false, status: 409, message: `a ${from} campaign cannot become ${to}` };
  if (from === 'scheduled' && to === 'draft' && attemptMade) {
    return { ok: false, status: 409, message: 'a scheduled campaign can go back to draft only before any call attempt; pause it instead' };
  }
  return { ok: true };
}
