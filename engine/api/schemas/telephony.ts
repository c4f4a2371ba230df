/**
 * Validation helpers shared by the telephony resources (numbers, trunks, calls): field aliases,
 * SIP host/port and address-range syntax, transfer destinations.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { Problems } from '../errors.js';
import { schemaProblems, validatorCompiler } from '../validation.js';
import { E164_RE } from './common.js';

type Obj = Record<string, unknown>;

/**
 * A field accepted under two names (e.g. `agent_id` / `assistant_id`). Sending both with
 * different values is a problem; `param` is the name the caller used.
 */
export function alias(body: Obj, canonical: string, other: string, p: Problems): { present: boolean; value: unknown; param: string } {
  const a = body[canonical];
  const b = body[other];
  if (a !== undefined && b !== undefined && JSON.stringify(a) !== JSON.stringify(b)) {
    p.invalid(other, `is an alias of ${canonical}; send only one of them`);
  }
  if (a !== undefined) return { present: true, value: a, param: canonical };
  if (b !== undefined) return { present: true, value: b, param: other };
  return { present: false, value: undefined, param: canonical };
}

/** better-sqlite3 reports constraint failures with a `code` (never match the message text). */
export const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** RFC 1123 host name (letters, digits, hyphens; dot-separated labels; not all-numeric TLD). */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.endsWith('.') ? s.slice(0, -1) : s).split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  // "1.2.3" or "999.1.1.1" look like broken IPv4 addresses, not names.
  return !/^\d+$/.test(labels[labels.length - 1] as string);
}

/**
 * `host` or `host:port`, IPv6 literals in brackets (`[2001:db8::1]:5060`). Returns the bare host
 * (IPv6 without brackets) and the port when given, or null when malformed.
 */
export function parseHostPort(s: string): { host: string; port: number | null } | null {
  const v = s.trim();
  let host: string;
  let portText: string | undefined;
  const m6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (m6) {
    host = m6[1] as string;
    portText = m6[2];
    if (!isIPv6(host)) return null;
  } else {
    const i = v.lastIndexOf(':');
    if (i >= 0 && v.indexOf(':') !== i) return null; // bare IPv6 (or junk): brackets required
    host = i >= 0 ? v.slice(0, i) : v;
    portText = i >= 0 ? v.slice(i + 1) : undefined;
    if (!isIPv4(host) && !isHostname(host)) return null;
    if (portText !== undefined && !/^\d{1,5}$/.test(portText)) return null;
  }
  const port = portText === undefined ? null : Number(portText);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { host, port };
}

/** An IPv4/IPv6 address or CIDR range (`203.0.113.0/24`, `2001:db8::/32`). */
export function isAddressOrCidr(s: string): boolean {
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const SIP_URI = /^sips?:(?:[^\s@;]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:;[^\s]*)?$/i;
const TEL_URI = /^tel:\+?[0-9][0-9().-]*(?:;[^\s]*)?$/i;

/** Transfer target (spec §4.12, §8.5): an E.164 number or a sip:/sips:/tel: URI. */
export const isTransferDestination = (s: string): boolean => E164_RE.test(s) || SIP_URI.test(s) || TEL_URI.test(s);

/** An outbound proxy: `host[:port]` or a `sip:`/`sips:` URI. */
export const isProxy = (s: string): boolean => parseHostPort(s) !== null || SIP_URI.test(s);

/**
 * `start_date` / `end_date` query filters as stored timestamps (UTC, millisecond form) so that
 * any RFC 3339 offset compares correctly; both inclusive. `end_date` before `start_date` is a 400.
 */
export function dateRange(q: { start_date?: string; end_date?: string }, p: Problems): { start_date?: string; end_date?: string } {
  const out: { start_date?: string; end_date?: string } = {};
  if (q.start_date !== undefined) out.start_date = new Date(q.start_date).toISOString();
  if (q.end_date !== undefined) out.end_date = new Date(q.end_date).toISOString();
  if (out.start_date !== undefined && out.end_date !== undefined && out.end_date < out.start_date) {
    p.invalid('end_date', 'must not be before start_date');
  }
  return out;
}

/**
 * Route-level validator compiler for routes that check their body in the handler (so that schema
 * problems and cross-field problems are reported together); params and query are checked as usual.
 * The body schema still documents the route in the OpenAPI document.
 */
export const handlerChecksBody: FastifySchemaCompiler<FastifySchema> = (route) =>
  route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as FastifyRouteSchemaDef<TSchema>);

/**
 * The schema problems of a body checked in its handler. A body that is not a JSON object is a
 * 400 at once; otherwise the caller adds its cross-field problems with `addNew` and throws.
 */
export function bodyProblems(schema: TSchema, body: unknown): Problems {
  const p = new Problems();
  p.list.push(...schemaProblems(schema, body));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) p.throwIfAny();
  return p;
}

/** Appends the problems of `more` whose field is not already reported in `p` (one problem per field). */
export function addNew(p: Problems, more: Problems): void {
  const seen = new Set(p.list.map((x) => x.param));
  for (const x of more.list) if (!seen.has(x.param)) p.list.push(x);
}
