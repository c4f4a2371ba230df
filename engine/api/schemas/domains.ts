/** Domain schemas (spec §3.10): the organization's e-mail sending domain, managed at Resend. */
import { Type } from '@sinclair/typebox';
import type { DomainRecord } from '../../store/repos/domains.js';
import { Enum, Nullable, Timestamp, Uuid } from './common.js';

/** Resend regions (resend npm package, `DomainRegion`). */
export const RESEND_REGIONS = ['us-east-1', 'eu-west-1', 'sa-east-1', 'ap-northeast-1'] as const;

/** A DNS name of at least two labels; labels of 1–63 letters, digits or inner hyphens. */
export const DOMAIN_NAME_RE = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const DnsRecord = Type.Object({
  record: Type.String({ description: 'SPF, DKIM, Receiving, Tracking, ...' }),
  name: Type.String(),
  type: Type.String({ description: 'MX, TXT, CNAME, ...' }),
  value: Type.String(),
  ttl: Type.Optional(Type.String()),
  status: Type.String(),
  priority: Type.Optional(Type.Integer()),
}, { additionalProperties: true });

export const Domain = Type.Object({
  id: Uuid,
  domain_name: Type.String(),
  resend_domain_id: Type.String(),
  status: Type.String({ description: 'Resend status: not_started, pending, verified, failed, partially_verified, partially_failed, temporary_failure' }),
  region: Nullable(Type.String()),
  records: Type.Array(DnsRecord, { description: 'DNS records to publish' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const DomainResponse = Type.Object({ domain: Domain });
export const MaybeDomainResponse = Type.Object({ domain: Nullable(Domain) });

export const DomainCreate = Type.Object({
  domain_name: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'e.g. mail.example.com' })),
  domain: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'older name of domain_name' })),
  region: Type.Optional(Enum(RESEND_REGIONS)),
});

export const DomainSync = Type.Object({
  resendDomainId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  domain_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'older name of resendDomainId' })),
});

export const SyncList = Type.Object({
  domains: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), status: Type.String(), region: Nullable(Type.String()) })),
  selected_domain_id: Nullable(Type.String()),
});

export const SyncResponse = Type.Object({ domain: Domain, message: Type.String() });

export interface DomainView {
  id: string;
  domain_name: string;
  resend_domain_id: string;
  status: string;
  region: string | null;
  records: Record<string, unknown>[];
  created_at: string;
  updated_at: string;
}

export const domainView = (d: DomainRecord): DomainView => ({
  id: d.id,
  domain_name: d.name,
  resend_domain_id: d.resend_domain_id,
  status: d.status,
  region: d.region,
  records: d.records,
  created_at: d.created_at,
  updated_at: d.updated_at,
});
