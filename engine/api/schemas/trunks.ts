import { Type } from '@sinclair/typebox';
import type { TrunkInput, TrunkRecord, Transport } from '../../store/repos/trunks.js';
import type { Problems } from '../errors.js';
import { E164, Enum, Nullable, Timestamp, Uuid } from './common.js';
import { alias, isAddressOrCidr, isHostname, isProxy, parseHostPort } from './telephony.js';
import { isIPv4, isIPv6 } from 'node:net';

export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
/** 5060 for UDP/TCP, 5061 for TLS (RFC 3261 §19.1.2) when no port is given. */
export const defaultPort = (t: Transport): number => (t === 'tls' ? 5061 : 5060);

const Registration = Type.Object({
  status: Enum(['registering', 'registered', 'failed', 'unregistered'] as const),
  error: Nullable(Type.String()),
  updated_at: Nullable(Timestamp),
}, { description: 'Engine extension, read-only: state of the REGISTER binding when `register` is true; null when the trunk does not register or no attempt was made yet' });

/** SipTrunk (spec §4.15) plus the engine's extensions. The password is never emitted. */
export const SipTrunk = Type.Object({
  id: Uuid,
  org_id: Uuid,
  name: Type.String(),
  provider: Nullable(Type.String({ description: 'Free-text carrier name' })),
  address: Type.String({ description: 'SIP server: host, or host:port when the port is not the transport default; IPv6 in brackets' }),
  transport: Nullable(Enum(TRANSPORTS)),
  auth_username: Nullable(Type.String()),
  is_active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
  host: Type.String({ description: 'Compatibility echo: the host part of address (IPv6 without brackets)' }),
  port: Type.Integer({ description: 'Compatibility echo: the SIP port' }),
  username: Nullable(Type.String({ description: 'Compatibility echo of auth_username' })),
  inbound_addresses: Type.Array(Type.String(), { description: 'Source IPs/CIDRs whose SIP traffic is accepted as coming from this trunk' }),
  outbound_number: Nullable(Type.String({ description: 'Default caller ID when dialling out through this trunk' })),
  outbound_proxy: Nullable(Type.String({ description: 'Engine extension: proxy every request to the trunk goes through' })),
  register: Type.Boolean({ description: 'Engine extension: the engine sends REGISTER to the trunk with the credentials' }),
  send_pai: Type.Boolean({ description: 'Engine extension: outbound INVITEs carry P-Asserted-Identity with the caller number' }),
  registration: Nullable(Registration),
});

const str = (max: number, description?: string) => Type.String({ maxLength: max, ...(description ? { description } : {}) });

/** SipTrunkCreate (spec §4.15): every documented spelling is accepted; unknown fields ignored. */
export const SipTrunkCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  provider: Type.Optional(Nullable(str(255, 'Free-text carrier name; default "generic"'))),
  address: Type.Optional(str(300, 'SIP server host or host:port (IPv6 in brackets). Required unless `host` or `outbound_address` is given')),
  outbound_address: Type.Optional(str(300, 'Alias of address')),
  host: Type.Optional(str(300, 'Alias of address (host only; combine with `port`)')),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 5060 (5061 with transport "tls")' })),
  transport: Type.Optional(Type.Union([...TRANSPORTS.map((v) => Type.Literal(v)), Type.Null()], { description: 'Default "udp"' })),
  auth_username: Type.Optional(Nullable(str(255, 'Digest user name'))),
  username: Type.Optional(Nullable(str(255, 'Alias of auth_username'))),
  auth_password: Type.Optional(Nullable(str(1024, 'Digest password; write-only, stored encrypted, never returned'))),
  password: Type.Optional(Nullable(str(1024, 'Alias of auth_password'))),
  inbound_addresses: Type.Optional(Type.Array(str(64), { maxItems: 256, description: 'IPv4/IPv6 addresses or CIDR ranges allowed to send calls from this trunk' })),
  outbound_number: Type.Optional(Nullable(E164)),
  outbound_proxy: Type.Optional(Nullable(str(300, 'Engine extension: outbound proxy, host[:port] or sip: URI'))),
  register: Type.Optional(Type.Boolean({ description: 'Engine extension: send REGISTER to the trunk with auth_username/auth_password (both required). Default false' })),
  send_pai: Type.Optional(Type.Boolean({ description: 'Engine extension: add P-Asserted-Identity to outbound INVITEs. Default false' })),
  is_active: Type.Optional(Type.Boolean({ description: 'Default true; inactive trunks take no calls and are not used for dialling' })),
}, { additionalProperties: true });

type Obj = Record<string, unknown>;
const bracket = (host: string): string => (isIPv6(host) ? `[${host}]` : host);

/** Checks the cross-field rules of a create body and resolves the aliases to a repository input. */
export function normaliseTrunk(body: Obj, p: Problems): TrunkInput {
  const transport: Transport = (body.transport as Transport | null | undefined) ?? 'udp';

  // address / outbound_address / host (+ port)
  const addr = alias(body, 'address', 'outbound_address', p);
  let host: string | null = null;
  let port: number | null = null;
  if (addr.present) {
    const hp = parseHostPort(String(addr.value));
    if (!hp) p.invalid(addr.param, 'must be a host name or IP address, optionally with :port (IPv6 in brackets, e.g. [2001:db8::1]:5060)');
    else ({ host, port } = hp);
  }
  if (body.host !== undefined) {
    const h = String(body.host).trim().replace(/^\[(.*)\]$/, '$1');
    if (!isHostname(h) && !isIPv4(h) && !isIPv6(h)) p.invalid('host', 'must be a host name or IP address (no port: use `port`)');
    else if (host !== null && host !== h) p.invalid('host', `is an alias of ${addr.param}; send only one of them`);
    else host = h;
  }
  if (!addr.present && body.host === undefined) p.missing('address');
  if (typeof body.port === 'number') {
    if (port !== null && port !== body.port) p.invalid('port', `conflicts with the port in ${addr.param}`);
    port = body.port;
  }

  const user = alias(body, 'auth_username', 'username', p);
  const pass = alias(body, 'auth_password', 'password', p);
  const username = typeof user.value === 'string' && user.value !== '' ? user.value : null;
  const password = typeof pass.value === 'string' && pass.value !== '' ? pass.value : null;
  if (password !== null && username === null) {
    p.list.push({ param: 'auth_username', code: 'missing_field', message: 'auth_username is required when auth_password is set' });
  }
  if (body.register === true) {
    // (a password without a user name is reported above)
    if (username === null && password === null) {
      p.list.push({ param: 'auth_username', code: 'missing_field', message: 'auth_username is required when register is true' });
    }
    if (password === null) p.list.push({ param: 'auth_password', code: 'missing_field', message: 'auth_password is required when register is true' });
  }

  const inbound = Array.isArray(body.inbound_addresses) ? (body.inbound_addresses as unknown[]).map((s) => (typeof s === 'string' ? s.trim() : '')) : [];
  inbound.forEach((a, i) => {
    if (!isAddressOrCidr(a)) p.invalid(`inbound_addresses[${i}]`, 'must be an IPv4/IPv6 address or CIDR range such as 203.0.113.0/24');
  });

  const proxy = typeof body.outbound_proxy === 'string' && body.outbound_proxy.trim() !== '' ? body.outbound_proxy.trim() : null;
  if (proxy !== null && !isProxy(proxy)) p.invalid('outbound_proxy', 'must be host[:port] or a sip:/sips: URI');

  return {
    name: String(body.name ?? ''),
    provider: body.provider === undefined ? 'generic' : (body.provider as string | null),
    address: host ?? '',
    port: port ?? defaultPort(transport),
    transport,
    auth_username: username,
    auth_password: password,
    inbound_addresses: [...new Set(inbound)],
    outbound_number: (body.outbound_number as string | null | undefined) ?? null,
    outbound_proxy: proxy,
    register: body.register === true,
    send_pai: body.send_pai === true,
    is_active: body.is_active !== false,
  };
}

/** The API shape of a stored trunk (never the password). */
export function trunkView(t: TrunkRecord): Record<string, unknown> {
  return {
    id: t.id,
    org_id: t.org_id,
    name: t.name,
    provider: t.provider,
    address: t.port === defaultPort(t.transport) ? bracket(t.address) : `${bracket(t.address)}:${t.port}`,
    transport: t.transport,
    auth_username: t.auth_username,
    is_active: t.is_active,
    created_at: t.created_at,
    updated_at: t.updated_at,
    host: t.address,
    port: t.port,
    username: t.auth_username,
    inbound_addresses: t.inbound_addresses,
    outbound_number: t.outbound_number,
    outbound_proxy: t.outbound_proxy,
    register: t.register,
    send_pai: t.send_pai,
    registration: t.registration_status === null ? null : {
      status: t.registration_status,
      error: t.registration_error,
      updated_at: t.registration_updated_at,
    },
  };
}
