import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Resend } from 'resend';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest, conflict, notFound, Problems } from '../errors.js';
import { errors, Success } from '../schemas/common.js';
import {
  DOMAIN_NAME_RE, DomainCreate, DomainResponse, domainView, DomainSync, MaybeDomainResponse, SyncList, SyncResponse,
} from '../schemas/domains.js';
import type { JsonObject } from '../../store/repos/util.js';
import { orgOf } from './util.js';

/** What every Resend SDK call answers: data or an error `{ name, message, statusCode }`. */
interface ResendResult<T> {
  data: T | null;
  error: { name: string; message: string; statusCode: number | null } | null;
}

const UPSTREAM_TIMEOUT_MS = 15_000;
const MAX_LIST_PAGES = 20;
const AUTH_ERRORS = new Set(['missing_api_key', 'invalid_api_key', 'restricted_api_key']);

/**
 * Domains (spec §3.10): one e-mail sending domain per organization, created, verified and read at
 * Resend through the `resend` package with the organization's BYOK Resend key. The local row is a
 * cache of what Resend last said; Resend stays the authority on status and DNS records.
 */
export function registerDomains(app: FastifyInstance, deps: ApiDeps): void {
  const tags = ['Domains'];

  const client = (org: string): Resend => {
    const key = deps.store.byok.key(org, 'resend');
    if (!key) throw badRequest('resend_key_missing', 'No Resend API key is configured; add one with POST /byok {"provider":"resend"} first');
    return new Resend(key, { baseUrl: deps.config.providers.resend.baseUrl ?? undefined });
  };

  /** Runs one SDK call with a deadline; Resend's answer mapped to the spec's errors. */
  const call = async <T>(what: string, run: (signal: AbortSignal) => Promise<ResendResult<T>>, param?: string): Promise<T> => {
    const signal = AbortSignal.timeout(UPSTREAM_TIMEOUT_MS);
    let r: ResendResult<T>;
    try {
      r = await run(signal);
    } catch (e) {
      if (signal.aborted) throw new ApiError(504, 'upstream_timeout', `Resend did not answer ${what} within ${UPSTREAM_TIMEOUT_MS / 1000} s`);
      throw new ApiError(502, 'upstream_unavailable', `Resend ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (r.error) {
      const { statusCode, message, name } = r.error;
      if (statusCode === null && signal.aborted) throw new ApiError(504, 'upstream_timeout', `Resend did not answer ${what} within ${UPSTREAM_TIMEOUT_MS / 1000} s`);
      if (AUTH_ERRORS.has(name) || statusCode === 401) {
        throw badRequest('invalid_provider_key', `Resend rejected the organization's Resend key: ${message}`, 'provider');
      }
      if (statusCode === 404) throw new ApiError(404, 'not_found', `Resend: ${message}`);
      if (statusCode === 400 || statusCode === 422) {
        throw new ApiError(400, 'invalid_value', `Resend: ${message}`, param === undefined ? {} : { param });
      }
      throw new ApiError(502, 'upstream_unavailable', `Resend ${what} failed${statusCode ? ` (${statusCode})` : ''}: ${message}`);
    }
    if (r.data === null) throw new ApiError(502, 'upstream_unavailable', `Resend ${what} returned no data`);
    return r.data;
  };

  const stored = (org: string) => {
    const d = deps.store.domains.get(org);
    if (!d) throw notFound('Domain');
    return d;
  };

  const recordsOf = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter((x): x is JsonObject => !!x && typeof x === 'object') : []);

  app.get('/domains', { schema: { tags, summary: 'Get your domain (null when none is configured)', response: { 200: MaybeDomainResponse, ...errors(401, 429) } } },
    async (req) => {
      const d = deps.store.domains.get(orgOf(req));
      return { domain: d ? domainView(d) : null };
    });

  app.post('/domains', {
    schema: { tags, summary: 'Add a sending domain at Resend; the answer lists the DNS records to publish', body: DomainCreate, response: { 201: DomainResponse, ...errors(400, 401, 409, 429, 502, 504) } },
  }, async (req, reply) => {
    const org = orgOf(req);
    const body = req.body as { domain_name?: string; domain?: string; region?: string };
    const p = new Problems();
    const raw = body.domain_name ?? body.domain;
    const name = raw?.trim().toLowerCase().replace(/\.$/, '');
    if (name === undefined) p.missing('domain_name');
    else if (!DOMAIN_NAME_RE.test(name)) p.invalid(body.domain_name !== undefined ? 'domain_name' : 'domain', 'must be a domain name such as mail.example.com');
    if (body.domain_name !== undefined && body.domain !== undefined && body.domain_name.trim().toLowerCase() !== body.domain.trim().toLowerCase()) {
      p.invalid('domain', 'must equal domain_name when both are given (domain is the older name of domain_name)');
    }
    p.throwIfAny();
    if (deps.store.domains.get(org)) throw conflict('This organization already has a domain; DELETE /domains first', 'conflict', 'domain_name');
    const resend = client(org);
    const created = await call('domain creation', (signal) => resend.domains.create(
      { name: name as string, ...(body.region ? { region: body.region as 'us-east-1' } : {}) }, { signal },
    ), body.domain_name !== undefined ? 'domain_name' : 'domain');
    const d = deps.store.domains.put(org, {
      resend_domain_id: created.id, name: created.name, status: created.status, region: created.region ?? null,
      records: recordsOf(created.records), created_here: true,
    });
    return reply.status(201).send({ domain: domainView(d) });
  });

  app.delete('/domains', { schema: { tags, summary: 'Delete your domain (also at Resend when it was created here)', response: { 200: Success, ...errors(401, 404, 429, 502, 504) } } },
    async (req) => {
      const org = orgOf(req);
      const d = stored(org);
      if (d.created_here && deps.store.byok.key(org, 'resend')) {
        const resend = client(org);
        try {
          await call('domain removal', (signal) => resend.domains.remove(d.resend_domain_id, { signal }));
        } catch (e) {
          // Already gone at Resend: the local link is all that is left to remove.
          if (!(e instanceof ApiError && e.statusCode === 404)) throw e;
        }
      }
      deps.store.domains.delete(org);
      return { success: true };
    });

  app.get('/domains/sync', { schema: { tags, summary: "List the domains in the organization's Resend account", response: { 200: SyncList, ...errors(400, 401, 429, 502, 504) } } },
    async (req) => {
      const org = orgOf(req);
      const resend = client(org);
      // Resend pages with a cursor (limit 1-100, `after` = last id); read the whole account, bounded.
      const all: { id: string; name: string; status: string; region: string | null }[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const cursor = after;
        const list = await call('domain listing', (signal) => resend.domains.list({ limit: 100, ...(cursor ? { after: cursor } : {}) }, { signal }));
        for (const x of list.data) all.push({ id: x.id, name: x.name, status: x.status, region: x.region ?? null });
        const last = list.data[list.data.length - 1];
        if (!list.has_more || !last) break;
        after = last.id;
      }
      return {
        domains: all,
        selected_domain_id: deps.store.domains.get(org)?.resend_domain_id ?? null,
      };
    });

  app.post('/domains/sync', {
    schema: { tags, summary: 'Select a domain of your Resend account and copy its status and records', body: DomainSync, response: { 200: SyncResponse, ...errors(400, 401, 404, 429, 502, 504) } },
  }, async (req: FastifyRequest) => {
    const org = orgOf(req);
    const body = req.body as { resendDomainId?: string; domain_id?: string };
    const p = new Problems();
    const id = (body.resendDomainId ?? body.domain_id)?.trim();
    if (id === undefined) p.missing('resendDomainId');
    else if (id === '' || /[/?#\s]/.test(id) || id === '.' || id === '..') p.invalid(body.resendDomainId !== undefined ? 'resendDomainId' : 'domain_id', 'must be a Resend domain id');
    if (body.resendDomainId !== undefined && body.domain_id !== undefined && body.resendDomainId.trim() !== body.domain_id.trim()) {
      p.invalid('domain_id', 'must equal resendDomainId when both are given (domain_id is the older name of resendDomainId)');
    }
    p.throwIfAny();
    const resend = client(org);
    const got = await call('domain lookup', (signal) => resend.domains.get(id as string, { signal }), 'resendDomainId');
    const keep = deps.store.domains.get(org);
    const d = deps.store.domains.put(org, {
      resend_domain_id: got.id, name: got.name, status: got.status, region: got.region ?? null, records: recordsOf(got.records),
      created_here: keep?.resend_domain_id === got.id ? keep.created_here : false,
    });
    return { domain: domainView(d), message: 'Domain synced successfully from Resend' };
  });

  app.post('/domains/verify', { schema: { tags, summary: 'Start DNS verification at Resend (status becomes pending)', response: { 200: DomainResponse, ...errors(400, 401, 404, 429, 502, 504) } } },
    async (req) => {
      const org = orgOf(req);
      const d = stored(org);
      const resend = client(org);
      await call('domain verification', (signal) => resend.domains.verify(d.resend_domain_id, { signal }));
      // Resend verifies asynchronously: the domain and its unchecked records are pending until a refresh says otherwise.
      const pending = (s: unknown) => (s === 'not_started' || s === 'failed' || s === 'temporary_failure' ? 'pending' : s);
      const updated = deps.store.domains.put(org, {
        resend_domain_id: d.resend_domain_id, name: d.name, region: d.region, created_here: d.created_here,
        status: d.status === 'verified' ? 'verified' : 'pending',
        records: d.records.map((r) => ({ ...r, status: pending(r.status) })),
      });
      return { domain: domainView(updated) };
    });

  app.post('/domains/refresh', { schema: { tags, summary: 'Re-read status and DNS records from Resend', response: { 200: DomainResponse, ...errors(400, 401, 404, 429, 502, 504) } } },
    async (req) => {
      const org = orgOf(req);
      const d = stored(org);
      const resend = client(org);
      const got = await call('domain lookup', (signal) => resend.domains.get(d.resend_domain_id, { signal }));
      const updated = deps.store.domains.put(org, {
        resend_domain_id: d.resend_domain_id, name: got.name, status: got.status, region: got.region ?? null,
        records: recordsOf(got.records), created_here: d.created_here,
      });
      return { domain: domainView(updated) };
    });
}
