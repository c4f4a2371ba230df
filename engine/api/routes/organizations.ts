import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { errors } from '../schemas/common.js';
import {
  Account, Organization, OrganizationCreate, OrganizationCreated, OrganizationQuery, organizationView,
} from '../schemas/organizations.js';
import { orgOf } from './util.js';

const forbidden = (): ApiError => new ApiError(403, 'forbidden', "You don't have access to this resource");

/**
 * Organizations (spec §3.12, §4.20) and the deprecated GET /account. A key sees its own
 * organization only; children are listed by id and name but their resources stay theirs.
 */
export function registerOrganizations(app: FastifyInstance, deps: ApiDeps): void {
  const tags = ['Organization'];
  const current = (req: FastifyRequest) => {
    const org = deps.store.organizations.get(orgOf(req));
    if (!org) throw notFound('Organization');
    return org;
  };
  const includeChildren = (req: FastifyRequest) => (req.query as { include_children?: boolean }).include_children === true;

  app.get('/organizations', {
    schema: { tags, summary: 'Get organization information', querystring: OrganizationQuery, response: { 200: Organization, ...errors(401, 429) } },
  }, async (req) => organizationView(deps.store, current(req), includeChildren(req)));

  app.get('/account', {
    schema: { tags, deprecated: true, summary: 'Get organization information (deprecated: use /organizations)', querystring: OrganizationQuery, response: { 200: Account, ...errors(401, 429) } },
  }, async (req) => {
    const org = current(req);
    return { ...organizationView(deps.store, org, includeChildren(req)), email: null, company_name: org.name };
  });

  app.post('/organizations', {
    schema: {
      tags, summary: 'Create an organization (a child of yours unless parent_org_id says otherwise); its API key is shown once',
      body: OrganizationCreate, response: { 201: OrganizationCreated, ...errors(400, 401, 403, 429) },
    },
  }, async (req, reply) => {
    const auth = req.auth;
    if (!auth) throw new ApiError(401, 'unauthorized', 'Invalid or missing API key');
    const body = req.body as { name: string; parent_org_id?: string | null };
    const name = body.name.trim();
    if (name === '') throw badRequest('invalid_value', 'name must not be blank', 'name');
    let parent: string | null;
    if (body.parent_org_id === undefined) parent = auth.orgId;
    else if (body.parent_org_id === null) {
      // A top-level organization is an engine-level act: only the bootstrap (admin) key may do it.
      if (!auth.isAdmin) throw forbidden();
      parent = null;
    } else {
      const wanted = body.parent_org_id.toLowerCase();
      if (wanted !== auth.orgId) {
        // Another organization (existing or not: never reveal which) is not the caller's to extend.
        if (!auth.isAdmin) throw forbidden();
        if (!deps.store.organizations.get(wanted)) throw badRequest('invalid_value', 'parent_org_id does not name an organization', 'parent_org_id');
      }
      parent = wanted;
    }
    const created = deps.store.db.transaction(() => {
      const org = deps.store.organizations.create({ name, parent_org_id: parent });
      const { key } = deps.store.apiKeys.create(org.id);
      return { id: org.id, name: org.name, parent_org_id: org.parent_org_id, api_key: key, created_at: org.created_at };
    })();
    return reply.status(201).send(created);
  });
}
