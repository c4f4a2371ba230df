// Fake Resend API server (domains endpoints), reached through the official `resend` package via
// its `baseUrl` option.
// Follows: https://resend.com/docs/api-reference/introduction (Bearer auth, status codes),
//          https://resend.com/docs/api-reference/errors (error body `{ statusCode, message, name }`;
//            missing_api_key 401, invalid_api_key 403, not_found 404, validation_error /
//            missing_required_field / invalid_parameter / invalid_region 422, method_not_allowed 405),
//          https://resend.com/docs/api-reference/domains/create-domain (POST /domains -> id, name,
//            created_at, status "not_started", region, records: SPF MX + SPF TXT on `send.<sub>`,
//            DKIM TXT on `resend._domainkey.<sub>`),
//          https://resend.com/docs/api-reference/domains/get-domain (object "domain" + records),
//          https://resend.com/docs/api-reference/domains/verify-domain (answers { object, id }),
//          https://resend.com/docs/api-reference/domains/list-domains ({ object: "list", has_more, data }),
//          https://resend.com/docs/api-reference/domains/delete-domain ({ object, id, deleted: true }),
//          https://resend.com/docs/dashboard/domains/introduction (statuses not_started -> pending ->
//            verified | failed),
//          https://resend.com/docs/api-reference/emails/send-email (POST /emails: from, to (string or
//            array, at most 50), subject, html or text; answers { id }; a `from` whose domain is not
//            verified in the account is a 403 validation_error).
//
// Verification model: POST /domains/{id}/verify moves a domain (and its records) to `pending`, as
// Resend does while it looks up DNS asynchronously; the next read (GET /domains/{id} or the list)
// finds the lookup finished and answers `verifyOutcome` ('verified' by default, or 'failed').
//
// Script API: `fake.verifyOutcome`, `fake.failNext(status, body?)` (the next request answers with
// that error, e.g. 500 / 503 to test upstream failures), `fake.addDomain(name, opts?)` (a domain
// that already exists in the account), `fake.domains` (the state) and `fake.requests` (a log).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, serve } from './common.js';

export type ResendDomainStatus = 'not_started' | 'pending' | 'verified' | 'failed' | 'temporary_failure';
export type ResendRegion = 'us-east-1' | 'eu-west-1' | 'sa-east-1' | 'ap-northeast-1';

export interface ResendRecord {
  record: 'SPF' | 'DKIM';
  name: string;
  type: 'MX' | 'TXT';
  ttl: string;
  status: ResendDomainStatus;
  value: string;
  priority?: number;
}

export interface ResendDomain {
  id: string;
  name: string;
  status: ResendDomainStatus;
  created_at: string;
  region: ResendRegion;
  records: ResendRecord[];
}

export interface FakeResend {
  readonly url: string;
  readonly apiKey: string;
  readonly domains: Map<string, ResendDomain>;
  readonly requests: { method: string; path: string; body: unknown }[];
  /** Accepted e-mails, in order. */
  readonly emails: { id: string; from: string; to: string[]; subject: string; text?: string; html?: string }[];
  verifyOutcome: 'verified' | 'failed';
  failNext(status: number, body?: unknown): void;
  addDomain(name: string, opts?: { status?: ResendDomainStatus; region?: ResendRegion }): ResendDomain;
  close(): Promise<void>;
}

const REGIONS: readonly ResendRegion[] = ['us-east-1', 'eu-west-1', 'sa-east-1', 'ap-northeast-1'];
const DOMAIN_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

const err = (res: ServerResponse, statusCode: number, name: string, message: string): void =>
  sendJson(res, statusCode, { statusCode, message, name });

/** Resend's timestamp form: `2023-04-26T20:21:26.347412+00:00`. */
const stamp = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');

/** A real 1024-bit RSA public key, as Resend publishes in the DKIM TXT record (`p=<base64 SPKI>`). */
function dkimValue(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return 'p=' + publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Record names are relative to the registrable domain: `send.mail` for mail.example.com. */
function records(name: string, region: ResendRegion): ResendRecord[] {
  const labels = name.split('.');
  const sub = labels.length > 2 ? labels.slice(0, -2).join('.') : '';
  const under = (prefix: string) => (sub ? `${prefix}.${sub}` : prefix);
  return [
    { record: 'SPF', name: under('send'), type: 'MX', ttl: 'Auto', status: 'not_started', value: `feedback-smtp.${region}.amazonses.com`, priority: 10 },
    { record: 'SPF', name: under('send'), type: 'TXT', ttl: 'Auto', status: 'not_started', value: '"v=spf1 include:amazonses.com ~all"' },
    { record: 'DKIM', name: under('resend._domainkey'), type: 'TXT', ttl: 'Auto', status: 'not_started', value: dkimValue() },
  ];
}

export async function startFakeResend(opts: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = opts.apiKey ?? 're_test_' + randomUUID().replace(/-/g, '');
  const domains = new Map<string, ResendDomain>();
  const requests: FakeResend['requests'] = [];
  const injected: { status: number; body: unknown }[] = [];
  let verifyOutcome: 'verified' | 'failed' = 'verified';

  const setStatus = (d: ResendDomain, s: ResendDomainStatus) => {
    d.status = s;
    for (const r of d.records) r.status = s;
  };
  /** A pending lookup has finished by the time anyone reads the domain again. */
  const settle = (d: ResendDomain) => {
    if (d.status === 'pending') setStatus(d, verifyOutcome);
    return d;
  };
  const addDomain = (name: string, o: { status?: ResendDomainStatus; region?: ResendRegion } = {}): ResendDomain => {
    const region = o.region ?? 'us-east-1';
    const d: ResendDomain = { id: randomUUID(), name: name.toLowerCase(), status: 'not_started', created_at: stamp(), region, records: records(name.toLowerCase(), region) };
    if (o.status) setStatus(d, o.status);
    domains.set(d.id, d);
    return d;
  };

  const emails: FakeResend['emails'] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const text = await readBody(req);
    let body: unknown = undefined;
    if (text) {
      try { body = JSON.parse(text); } catch { return err(res, 422, 'validation_error', 'Invalid JSON body'); }
    }
    requests.push({ method: req.method ?? 'GET', path: url.pathname, body });

    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer (\S+)$/.exec(auth) : null;
    if (!m) return err(res, 401, 'missing_api_key', 'Missing API key in the authorization header');
    if (m[1] !== apiKey) return err(res, 403, 'invalid_api_key', 'API key is invalid');

    const fault = injected.shift();
    if (fault) return sendJson(res, fault.status, fault.body);

    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'emails' && parts.length === 1) {
      if ((req.method ?? 'GET') !== 'POST') return err(res, 405, 'method_not_allowed', 'Method is not allowed for the requested path.');
      const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      for (const f of ['from', 'to', 'subject'] as const) if (b[f] === undefined) return err(res, 422, 'missing_required_field', `Missing \`${f}\` field.`);
      if (typeof b.text !== 'string' && typeof b.html !== 'string') return err(res, 422, 'missing_required_field', 'Missing `html` or `text` field.');
      const to = Array.isArray(b.to) ? b.to.map(String) : [String(b.to)];
      if (to.length > 50 || to.some((t) => !/^[^\s@]+@[^\s@]+$/.test(t))) return err(res, 422, 'validation_error', 'Invalid `to` field.');
      const from = String(b.from);
      const fromDomain = /@([^>\s]+)>?$/.exec(from)?.[1]?.toLowerCase();
      const ok = [...domains.values()].map(settle).some((d) => d.name === fromDomain && d.status === 'verified');
      if (!ok) return err(res, 403, 'validation_error', `The ${fromDomain ?? from} domain is not verified. Please, add and verify your domain.`);
      const id = randomUUID();
      emails.push({ id, from, to, subject: String(b.subject), ...(typeof b.text === 'string' ? { text: b.text } : {}), ...(typeof b.html === 'string' ? { html: b.html } : {}) });
      return sendJson(res, 200, { id });
    }
    if (parts[0] !== 'domains' || parts.length > 3) return err(res, 404, 'not_found', 'The requested endpoint does not exist.');
    const method = req.method ?? 'GET';

    if (parts.length === 1) {
      if (method === 'POST') {
        const b = (body && typeof body === 'object' ? body : {}) as { name?: unknown; region?: unknown };
        if (b.name === undefined || b.name === null || b.name === '') return err(res, 422, 'missing_required_field', 'Missing `name` field.');
        if (typeof b.name !== 'string' || !DOMAIN_RE.test(b.name)) return err(res, 422, 'validation_error', 'The `name` field must be a valid domain name.');
        if (b.region !== undefined && !REGIONS.includes(b.region as ResendRegion)) {
          return err(res, 422, 'invalid_region', 'Region must be "us-east-1" | "eu-west-1" | "sa-east-1" | "ap-northeast-1".');
        }
        const name = b.name.toLowerCase();
        if ([...domains.values()].some((d) => d.name === name)) return err(res, 422, 'validation_error', `The ${name} domain has been registered already.`);
        const d = addDomain(name, { region: (b.region as ResendRegion | undefined) ?? 'us-east-1' });
        return sendJson(res, 200, { id: d.id, name: d.name, created_at: d.created_at, status: d.status, records: d.records, region: d.region });
      }
      if (method === 'GET') {
        const limit = url.searchParams.get('limit');
        const n = limit === null ? 20 : Number(limit);
        if (!Number.isInteger(n) || n < 1 || n > 100) return err(res, 422, 'validation_error', 'The `limit` parameter must be an integer between 1 and 100.');
        const after = url.searchParams.get('after');
        let all = [...domains.values()].map(settle).reverse();
        if (after !== null) {
          const at = all.findIndex((d) => d.id === after);
          if (at < 0) return err(res, 422, 'invalid_parameter', 'The `after` cursor does not name a domain.');
          all = all.slice(at + 1);
        }
        return sendJson(res, 200, {
          object: 'list', has_more: all.length > n,
          data: all.slice(0, n).map((d) => ({
            id: d.id, name: d.name, status: d.status, created_at: d.created_at, region: d.region,
            capabilities: { sending: 'enabled', receiving: 'disabled' },
          })),
        });
      }
      return err(res, 405, 'method_not_allowed', 'Method is not allowed for the requested path.');
    }

    const id = parts[1] as string;
    if (!/^[0-9a-f-]{36}$/i.test(id)) return err(res, 422, 'invalid_parameter', 'The `id` must be a valid UUID.');
    const d = domains.get(id);
    if (!d) return err(res, 404, 'not_found', 'Domain not found');
    if (parts.length === 3) {
      if (parts[2] !== 'verify') return err(res, 404, 'not_found', 'The requested endpoint does not exist.');
      if (method !== 'POST') return err(res, 405, 'method_not_allowed', 'Method is not allowed for the requested path.');
      if (d.status !== 'verified') setStatus(d, 'pending');
      return sendJson(res, 200, { object: 'domain', id: d.id });
    }
    if (method === 'GET') {
      settle(d);
      return sendJson(res, 200, {
        object: 'domain', id: d.id, name: d.name, status: d.status, created_at: d.created_at, region: d.region,
        capabilities: { sending: 'enabled', receiving: 'disabled' }, records: d.records,
      });
    }
    if (method === 'DELETE') {
      domains.delete(id);
      return sendJson(res, 200, { object: 'domain', id, deleted: true });
    }
    return err(res, 405, 'method_not_allowed', 'Method is not allowed for the requested path.');
  }

  const server = await serve({
    http: (req, res) => {
      handle(req, res).catch(() => { if (!res.headersSent) err(res, 500, 'internal_server_error', 'Internal server error'); });
    },
  });

  return {
    url: server.url,
    apiKey,
    domains,
    requests,
    emails,
    get verifyOutcome() { return verifyOutcome; },
    set verifyOutcome(v) { verifyOutcome = v; },
    failNext(status: number, body?: unknown) {
      injected.push({ status, body: body ?? { statusCode: status, message: status >= 500 ? 'Internal server error' : 'Request failed', name: status >= 500 ? 'internal_server_error' : 'application_error' } });
    },
    addDomain,
    close: () => server.close(),
  };
}
