import { Type } from '@sinclair/typebox';
import type { NumberRecord } from '../../store/repos/numbers.js';
import { E164, Nullable, Timestamp, Uuid } from './common.js';

/** PhoneNumber (spec §4.8). `assistant_id` repeats `agent_id` (both spellings are emitted). */
export const PhoneNumber = Type.Object({
  id: Uuid,
  phone_number: E164,
  name: Nullable(Type.String()),
  agent_id: Nullable(Uuid),
  assistant_id: Nullable(Type.String({ format: 'uuid', description: 'Same value as agent_id' })),
  agent_name: Nullable(Type.String({ description: 'Name of the assigned assistant (denormalised)' })),
  business_name: Nullable(Type.String({ description: 'business_name of the assigned assistant (denormalised)' })),
  transfer_trunk_id: Nullable(Type.String({ format: 'uuid', description: 'SIP trunk for transfers and outbound dialling' })),
  transfer_trunk_name: Nullable(Type.String({ description: 'Name of the transfer trunk (denormalised)' })),
  source: Nullable(Type.String({ description: '"sip" for numbers registered through the API' })),
  is_active: Type.Boolean({ description: 'Inactive numbers reject inbound calls and are never used as caller ID' }),
  workflow_id: Nullable(Type.String()),
  workflow_name: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const common = {
  agent_id: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Assistant answering calls to this number' }))),
  assistant_id: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Alias of agent_id' }))),
  name: Type.Optional(Nullable(Type.String({ maxLength: 255, description: 'Display name' }))),
  transfer_trunk_id: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'SIP trunk used for transfers and outbound dialling' }))),
  is_active: Type.Optional(Type.Boolean({ description: 'Default true' })),
  workflow_id: Type.Optional(Nullable(Type.String({ maxLength: 255, description: 'Stored only (workflows are an optional extension)' }))),
};

/** PhoneNumberCreate (spec §4.9); unknown fields are ignored (§2.3). */
export const PhoneNumberCreate = Type.Object({ phone_number: E164, ...common }, { additionalProperties: true });

/** PhoneNumberUpdate (spec §4.10); `phone_number` is immutable and rejected when sent. */
export const PhoneNumberUpdate = Type.Object(common, { additionalProperties: true });

/** The API shape of a stored number. */
export function numberView(n: NumberRecord): Record<string, unknown> {
  return {
    id: n.id,
    phone_number: n.phone_number,
    name: n.name,
    agent_id: n.agent_id,
    assistant_id: n.agent_id,
    agent_name: n.agent_name,
    business_name: n.business_name,
    transfer_trunk_id: n.transfer_trunk_id,
    transfer_trunk_name: n.transfer_trunk_name,
    source: n.source,
    is_active: n.is_active,
    workflow_id: n.workflow_id,
    workflow_name: null,
    created_at: n.created_at,
    updated_at: n.updated_at,
  };
}
