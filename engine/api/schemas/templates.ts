/**
 * Tool templates (spec §3.2, §4.19) and analysis templates (spec §3.11, §4.21): request and
 * response schemas, and the normalisation each template goes through before it is stored.
 * Templates are copied into assistants when attached (`{tool_template_id}` in llm_config.tools,
 * `analysis_plan.structured_data_plan.template_id`), never referenced: see normaliseAssistant.
 */
import { Type } from '@sinclair/typebox';
import type { ToolTemplateRecord, AnalysisTemplateRecord } from '../../store/repos/templates.js';
import type { JsonObject } from '../../store/repos/util.js';
import { Problems } from '../errors.js';
import { AnyObject, Enum, Nullable, Timestamp, Uuid } from './common.js';
import { normaliseDestinations, normaliseFunctionTool } from './assistant.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Tool templates

export const TOOL_TYPES = ['function', 'end_call', 'transfer_call'] as const;
export type ToolType = (typeof TOOL_TYPES)[number];
/** Every accepted spelling (OpenAPI camelCase and SDK snake_case); stored as snake_case. */
export const TOOL_TYPE_SPELLINGS = ['function', 'end_call', 'transfer_call', 'endCall', 'transferCall'] as const;
const CANONICAL: Record<string, ToolType> = {
  function: 'function', end_call: 'end_call', endCall: 'end_call', transfer_call: 'transfer_call', transferCall: 'transfer_call',
};
/** `endCall` -> `end_call`; undefined for anything that is not a tool type. */
export const canonicalToolType = (v: unknown): ToolType | undefined => (typeof v === 'string' ? CANONICAL[v] : undefined);

const TransferDestination = Type.Object({
  type: Type.Optional(Type.Literal('number')),
  number: Type.String({ description: 'E.164 number' }),
  description: Type.String({ description: 'When the assistant should pick this destination' }),
  message: Type.Optional(Type.String({ description: 'Said to the caller before transferring' })),
});

export const ToolFunctionConfig = Type.Object({
  name: Type.Optional(Type.String({ description: 'Function name; defaults to the template name, which then must match ^[A-Za-z_][A-Za-z0-9_-]{0,63}$' })),
  description: Type.Optional(Type.String({ description: 'Defaults to the template description' })),
  parameters: Type.Optional(AnyObject),
  url: Type.Optional(Type.String({ description: 'Webhook URL overriding the assistant webhook' })),
  server: Type.Optional(Type.Object({ url: Type.String(), secret: Type.Optional(Type.String()) })),
  async: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String({ description: 'Spoken while the tool runs' })),
}, { description: 'ToolFunctionConfig (tool_type "function")' });
export const ToolTransferConfig = Type.Object({
  destinations: Type.Array(TransferDestination, { minItems: 1 }),
}, { description: 'ToolTransferConfig (tool_type "transfer_call")' });

const toolTypeField = Enum(TOOL_TYPE_SPELLINGS, { description: 'function | end_call | transfer_call (endCall and transferCall accepted; emitted in snake_case)' });
const toolConfigField = Type.Object({}, {
  additionalProperties: true,
  description: 'By tool_type: ToolFunctionConfig for "function", {} for "end_call", ToolTransferConfig ({destinations: [...] with at least one entry}) for "transfer_call"',
});
/** Legacy flat input (older guides): {name, description, type, url, async, parameters}. */
const legacyFields = {
  type: Type.Optional(Enum(TOOL_TYPE_SPELLINGS, { description: 'Legacy spelling of tool_type (flat input)' })),
  url: Type.Optional(Type.String({ description: 'Legacy flat input: moved into tool_config' })),
  async: Type.Optional(Type.Boolean({ description: 'Legacy flat input: moved into tool_config' })),
  parameters: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Legacy flat input: moved into tool_config' })),
  destinations: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Legacy flat input for transfer_call: moved into tool_config' })),
};

export const ToolTemplate = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  tool_type: Enum(TOOL_TYPES),
  tool_config: Type.Object({}, { additionalProperties: true }),
  org_id: Uuid,
  created_at: Timestamp,
  updated_at: Timestamp,
}, { description: 'ToolTemplate' });

export const ToolTemplateCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Nullable(Type.String())),
  tool_type: Type.Optional(toolTypeField),
  tool_config: Type.Optional(toolConfigField),
  ...legacyFields,
}, { additionalProperties: true, description: 'ToolTemplateCreate: name, tool_type and tool_config are required (tool_config may be {} for end_call), or the legacy flat form {name, description, type, url, async, parameters}' });

export const ToolTemplateUpdate = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  description: Type.Optional(Nullable(Type.String())),
  tool_type: Type.Optional(toolTypeField),
  tool_config: Type.Optional(toolConfigField),
  ...legacyFields,
}, { additionalProperties: true, description: 'ToolTemplateUpdate: only given fields change; tool_config replaces the stored config; a new tool_type needs a matching tool_config' });

export type ToolTemplateInput = Pick<ToolTemplateRecord, 'name' | 'description' | 'tool_type' | 'tool_config'>;

const LEGACY_CONFIG_KEYS = ['url', 'async', 'parameters', 'destinations'] as const;

/** Legacy flat fields present in a body, converted into a tool_config (undefined when none). */
function legacyConfig(body: Obj): Obj | undefined {
  const present = LEGACY_CONFIG_KEYS.filter((k) => body[k] !== undefined);
  if (!present.length && body.type === undefined) return undefined;
  const cfg: Obj = {};
  for (const k of present) cfg[k] = body[k];
  if (typeof body.description === 'string') cfg.description = body.description;
  return cfg;
}

/** Checks a tool_config against its type; returns the canonical config to store. */
function normaliseToolConfig(type: ToolType, raw: unknown, templateName: unknown, p: Problems): JsonObject {
  if (!isObj(raw)) {
    p.invalid('tool_config', 'must be an object');
    return {};
  }
  if (type === 'end_call') return {};
  if (type === 'transfer_call') return { destinations: normaliseDestinations(raw.destinations, 'tool_config.destinations', p) };
  // function: reuse the assistant tool rules; the name defaults to the template name.
  const named = raw.name !== undefined;
  const scratch = new Problems();
  const fn = normaliseFunctionTool({ ...raw, name: named ? raw.name : templateName }, 'tool_config', scratch);
  for (const problem of scratch.list) {
    if (!named && problem.param === 'tool_config.name') {
      p.invalid('name', 'must be a valid function name when tool_config.name is omitted: a letter or underscore first, then letters, digits, _ or - (max 64)');
    } else {
      p.list.push(problem);
    }
  }
  // Store what was given: defaults (name, description) are applied when the template is attached.
  const out: JsonObject = { ...fn };
  if (!named) delete out.name;
  if (raw.description === undefined) delete out.description;
  return out;
}

/** POST body -> template to store. */
export function normaliseToolTemplateCreate(body: Obj, p: Problems): ToolTemplateInput {
  const typeRaw = body.tool_type ?? body.type;
  const type = canonicalToolType(typeRaw);
  if (typeRaw === undefined) p.missing('tool_type');
  let cfg = body.tool_config;
  if (cfg === undefined) cfg = legacyConfig(body);
  if (cfg === undefined) p.missing('tool_config');
  const description = typeof body.description === 'string' ? body.description : null;
  const tool_config = type && cfg !== undefined ? normaliseToolConfig(type, cfg, body.name, p) : {};
  return { name: String(body.name), description, tool_type: type ?? 'function', tool_config };
}

/** PATCH body over the stored template -> template to store. */
export function normaliseToolTemplateUpdate(stored: ToolTemplateRecord, body: Obj, p: Problems): ToolTemplateInput {
  const typeRaw = body.tool_type ?? body.type;
  const type = typeRaw === undefined ? stored.tool_type : canonicalToolType(typeRaw) ?? stored.tool_type;
  let cfg = body.tool_config;
  if (cfg === undefined) cfg = LEGACY_CONFIG_KEYS.some((k) => body[k] !== undefined) ? legacyConfig(body) : undefined;
  if (cfg === undefined && type !== stored.tool_type) {
    p.list.push({ param: 'tool_config', code: 'missing_field', message: `tool_config is required when tool_type changes (from "${stored.tool_type}" to "${type}")` });
    return { name: stored.name, description: stored.description, tool_type: type, tool_config: {} };
  }
  const name = typeof body.name === 'string' ? body.name : stored.name;
  const description = body.description === undefined ? stored.description : typeof body.description === 'string' ? body.description : null;
  // Re-check the stored config too: a new template name may be the function name.
  const tool_config = normaliseToolConfig(type, cfg ?? stored.tool_config, name, p);
  return { name, description, tool_type: type, tool_config };
}

// ---------------------------------------------------------------------------------------------
// Analysis templates

export const DEFAULT_ANALYSIS_SYSTEM_PROMPT =
  'You analyse phone calls. Extract the requested information from the call and reply with a single JSON object that matches the given schema. Use null for anything the call does not reveal.';
export const DEFAULT_ANALYSIS_USER_PROMPT = 'Analyze this call.\n\nTranscript: {transcript}';

const PLACEHOLDERS = 'Placeholders, filled when the analysis runs: {transcript}, {summary}, {duration} (seconds), {caller_number}; the legacy double-brace style ({{transcript}} ...) works too.';
const LegacyMessage = Type.Object({ role: Enum(['system', 'user'] as const), content: Type.String() });

const analysisFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Nullable(Type.String()),
  system_prompt: Type.String({ minLength: 1, description: `System prompt of the analysis. Default: "${DEFAULT_ANALYSIS_SYSTEM_PROMPT}" (or the first system entry of legacy messages). ${PLACEHOLDERS}` }),
  user_prompt: Type.String({ minLength: 1, description: `User prompt of the analysis. Default: "Analyze this call.\\n\\nTranscript: {transcript}" (or the first user entry of legacy messages). ${PLACEHOLDERS}` }),
  schema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema of the structured data to extract' }),
  messages: Nullable(Type.Array(LegacyMessage, { description: 'Legacy (older guides): prompt messages; stored and returned as given' })),
  min_messages_threshold: Nullable(Type.Integer({ minimum: 0, maximum: 1000, description: 'Legacy (older guides): minimum conversation messages before the analysis runs; stored and returned as given' })),
};

export const AnalysisTemplate = Type.Object({
  id: Uuid,
  org_id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  system_prompt: Type.String({ description: PLACEHOLDERS }),
  user_prompt: Type.String({ description: PLACEHOLDERS }),
  schema: Type.Object({}, { additionalProperties: true }),
  messages: Type.Optional(Type.Array(LegacyMessage, { description: 'Only when given (legacy)' })),
  min_messages_threshold: Type.Optional(Type.Integer({ description: 'Only when given (legacy)' })),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { description: 'AnalysisTemplate' });

export const AnalysisTemplateCreate = Type.Object({
  name: analysisFields.name,
  schema: analysisFields.schema,
  description: Type.Optional(analysisFields.description),
  system_prompt: Type.Optional(analysisFields.system_prompt),
  user_prompt: Type.Optional(analysisFields.user_prompt),
  messages: Type.Optional(analysisFields.messages),
  min_messages_threshold: Type.Optional(analysisFields.min_messages_threshold),
}, { additionalProperties: true, description: 'CreateAnalysisTemplate' });

export const AnalysisTemplateUpdate = Type.Object({
  name: Type.Optional(analysisFields.name),
  schema: Type.Optional(analysisFields.schema),
  description: Type.Optional(analysisFields.description),
  system_prompt: Type.Optional(analysisFields.system_prompt),
  user_prompt: Type.Optional(analysisFields.user_prompt),
  messages: Type.Optional(analysisFields.messages),
  min_messages_threshold: Type.Optional(analysisFields.min_messages_threshold),
}, { additionalProperties: true, description: 'UpdateAnalysisTemplate: every field optional; description, messages and min_messages_threshold may be null to clear them' });

/** Emitted under both keys: the SDK's snake_case and the legacy API page's camelCase (spec §4.21). */
export const AnalysisTemplateList = Type.Object({
  analysis_templates: Type.Array(AnalysisTemplate),
  analysisTemplates: Type.Array(AnalysisTemplate, { description: 'Same array (legacy key)' }),
}, { description: 'AnalysisTemplateListResponse' });
export const AnalysisTemplateOne = Type.Object({
  analysis_template: AnalysisTemplate,
  analysisTemplate: Type.Object({}, { additionalProperties: true, description: 'Same object (legacy key)' }),
});

export type AnalysisTemplateInput = Pick<AnalysisTemplateRecord, 'name' | 'description' | 'system_prompt' | 'user_prompt' | 'schema' | 'extra'>;

const firstOf = (messages: unknown, role: string): string | undefined =>
  Array.isArray(messages) ? (messages as Obj[]).find((m) => isObj(m) && m.role === role && typeof m.content === 'string' && m.content.trim())?.content as string | undefined : undefined;

/** Create, or PATCH when `stored` is given: the template to store (legacy fields in `extra`). */
export function normaliseAnalysisTemplate(body: Obj, stored?: AnalysisTemplateRecord): AnalysisTemplateInput {
  const extra: JsonObject = { ...(stored?.extra ?? {}) };
  for (const k of ['messages', 'min_messages_threshold'] as const) {
    if (body[k] === null) delete extra[k];
    else if (body[k] !== undefined) extra[k] = body[k];
  }
  const pick = (k: 'system_prompt' | 'user_prompt', role: string, def: string): string =>
    typeof body[k] === 'string' ? (body[k] as string) : stored ? stored[k] : firstOf(extra.messages, role) ?? def;
  return {
    name: typeof body.name === 'string' ? body.name : (stored?.name ?? ''),
    description: body.description === undefined ? (stored?.description ?? null) : typeof body.description === 'string' ? body.description : null,
    system_prompt: pick('system_prompt', 'system', DEFAULT_ANALYSIS_SYSTEM_PROMPT),
    user_prompt: pick('user_prompt', 'user', DEFAULT_ANALYSIS_USER_PROMPT),
    schema: isObj(body.schema) ? (body.schema as JsonObject) : (stored?.schema ?? {}),
    extra,
  };
}

/** The response object: the record with its legacy fields alongside. */
export function analysisTemplateOut(r: AnalysisTemplateRecord): Obj {
  const { extra, ...rest } = r;
  const out: Obj = { id: rest.id, org_id: rest.org_id, name: rest.name, description: rest.description, system_prompt: rest.system_prompt, user_prompt: rest.user_prompt, schema: rest.schema };
  if (extra.messages !== undefined) out.messages = extra.messages;
  if (extra.min_messages_threshold !== undefined) out.min_messages_threshold = extra.min_messages_threshold;
  out.created_at = rest.created_at;
  out.updated_at = rest.updated_at;
  return out;
}
