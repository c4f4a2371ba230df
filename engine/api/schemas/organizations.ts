/** Organization schemas (spec §4.20) and the view that builds them from the store. */
import { Type } from '@sinclair/typebox';
import type { Store } from '../../store/index.js';
import type { OrganizationRow } from '../../store/repos/organizations.js';
import { Nullable, Timestamp, Uuid } from './common.js';

/**
 * Credits are disabled in this engine (no billing): organizations without a configured balance
 * report this large constant (spec §4.20 PROPOSED) and nothing ever answers 402.
 */
export const UNLIMITED_MINUTES = 1e9;

export const OrganizationChild = Type.Object({ id: Uuid, name: Type.String(), created_at: Timestamp });

const orgFields = {
  id: Uuid,
  name: Type.String(),
  minutes_balance: Type.Number({ description: 'remaining credit in minutes; 1e9 when credits are disabled' }),
  monthly_usage_minutes: Type.Number({ description: 'minutes used since the first of this month (UTC)' }),
  active_numbers: Type.Integer(),
  active_agents: Type.Integer(),
  active_calls: Type.Integer(),
  has_local_models_access: Type.Boolean(),
  parent_org_id: Nullable(Uuid),
  children: Type.Optional(Type.Array(OrganizationChild, { description: 'only with include_children=true' })),
};

export const Organization = Type.Object(orgFields);
export const Account = Type.Object({
  ...orgFields,
  email: Nullable(Type.String()),
  company_name: Type.String(),
});

export const OrganizationQuery = Type.Object({
  include_children: Type.Optional(Type.Boolean({ default: false })),
});

export const OrganizationCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  parent_org_id: Type.Optional(Nullable(Uuid)),
  email: Type.Optional(Type.Unknown({ description: 'older field: accepted and ignored' })),
}, { description: 'parent_org_id omitted: a child of the caller\'s organization; null: a top-level organization (admin key only)' });

export const OrganizationCreated = Type.Object({
  id: Uuid,
  name: Type.String(),
  parent_org_id: Nullable(Uuid),
  api_key: Type.String({ description: 'shown once; stored hashed' }),
  created_at: Timestamp,
});

export interface OrganizationView {
  id: string;
  name: string;
  minutes_balance: number;
  monthly_usage_minutes: number;
  active_numbers: number;
  active_agents: number;
  active_calls: number;
  has_local_models_access: boolean;
  parent_org_id: string | null;
  children?: { id: string; name: string; created_at: string }[];
}

/** The bare Organization object of spec §4.20, counts from the store. */
export function organizationView(store: Store, org: OrganizationRow, includeChildren: boolean): OrganizationView {
  const st = store.organizations.stats(org.id);
  const view: OrganizationView = {
    id: org.id,
    name: org.name,
    minutes_balance: org.minutes_balance ?? UNLIMITED_MINUTES,
    monthly_usage_minutes: Math.round((st.monthly_usage_seconds / 60) * 100) / 100,
    active_numbers: st.active_numbers,
    active_agents: st.active_agents,
    active_calls: st.active_calls,
    has_local_models_access: org.has_local_models_access,
    parent_org_id: org.parent_org_id,
  };
  if (includeChildren) view.children = store.organizations.children(org.id).map((c) => ({ id: c.id, name: c.name, created_at: c.created_at }));
  return view;
}
