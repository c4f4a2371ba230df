import { Type } from '@sinclair/typebox';
import type { UsageRecord } from '../../store/repos/usage.js';
import { Enum, Nullable, PageQuery, Pagination, Timestamp, Uuid } from './common.js';

/** UsageLog (spec §4.14), plus `call_id` (legacy guide field, PROPOSED to emit). */
export const UsageLog = Type.Object({
  id: Uuid,
  call_id: Nullable(Type.String()),
  duration_sec: Type.Integer(),
  byok_stt: Type.Boolean(),
  byok_llm: Type.Boolean(),
  byok_tts: Type.Boolean(),
  phone_number: Nullable(Type.String()),
  agent_name: Nullable(Type.String()),
  business_name: Nullable(Type.String()),
  call_type: Enum(['phone', 'web'] as const),
  created_at: Timestamp,
});

/** UsageSummary (spec §4.14) over every row matching the date filter, not only the page. */
export const UsageSummary = Type.Object({
  total_calls: Type.Integer(),
  total_duration_seconds: Type.Integer(),
  total_duration_minutes: Type.Number({ description: 'total_duration_seconds / 60' }),
});

export const UsageQuery = Type.Object({
  limit: PageQuery.limit,
  offset: PageQuery.offset,
  start_date: PageQuery.start_date,
  end_date: PageQuery.end_date,
});

export const UsageResponse = Type.Object({ logs: Type.Array(UsageLog), pagination: Pagination, summary: UsageSummary });

export const usageView = (u: UsageRecord): Record<string, unknown> => ({
  id: u.id,
  call_id: u.call_id,
  duration_sec: u.duration_sec,
  byok_stt: u.byok_stt,
  byok_llm: u.byok_llm,
  byok_tts: u.byok_tts,
  phone_number: u.phone_number,
  agent_name: u.agent_name,
  business_name: u.business_name,
  call_type: u.call_type,
  created_at: u.created_at,
});
