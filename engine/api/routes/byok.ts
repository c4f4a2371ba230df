import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { badRequest, Problems } from '../errors.js';
import { errors } from '../schemas/common.js';
import {
  BYOK_CATALOG, ByokChangeResponse, ByokConfigPut, ByokConfigResponse, ByokDelete, ByokKeysResponse, ByokPut, byokKeys,
  CatalogResponse, type ByokProvider,
} from '../schemas/byok.js';
import type { JsonObject } from '../../store/repos/util.js';
import { orgOf } from './util.js';

/**
 * BYOK (spec §3.9): an organization's own provider keys. Keys are write-only (sealed in the store,
 * never returned); only the opaque `<provider>_secret_id` is exposed, and re-POSTing rotates it.
 */
export function registerByok(app: FastifyInstance, deps: ApiDeps): void {
  const tags = ['BYOK'];
  const keys = (org: string) => byokKeys(deps.store.byok.ids(org));

  app.get('/byok', { schema: { tags, summary: 'Get BYOK configurations (secret ids only)', response: { 200: ByokKeysResponse, ...errors(401, 429) } } },
    async (req) => ({ byok_keys: keys(orgOf(req)) }));

  app.post('/byok', { schema: { tags, summary: 'Add or rotate a provider key', body: ByokPut, response: { 200: ByokChangeResponse, ...errors(400, 401, 429) } } },
    async (req) => {
      const org = orgOf(req);
      const body = req.body as { provider: ByokProvider; api_key: string };
      const p = new Problems();
      if (body.api_key.trim() === '') p.invalid('api_key', 'must not be blank');
      p.throwIfAny();
      deps.store.byok.put(org, body.provider, body.api_key.trim());
      return { success: true, byok_keys: keys(org) };
    });

  app.delete('/byok', { schema: { tags, summary: 'Delete a provider key (the platform default applies again)', body: ByokDelete, response: { 200: ByokChangeResponse, ...errors(400, 401, 429) } } },
    async (req) => {
      const org = orgOf(req);
      // Deleting a provider that has no key is idempotent: the result is the same state.
      deps.store.byok.delete(org, (req.body as { provider: ByokProvider }).provider);
      return { success: true, byok_keys: keys(org) };
    });

  app.get('/byok/config', { schema: { tags, summary: 'Provider catalogue: categories, docs and models', response: { 200: CatalogResponse, ...errors(401, 429) } } },
    async () => ({ providers: BYOK_CATALOG }));

  app.post('/byok/config', { schema: { tags, summary: 'Merge provider-specific settings (the provider key must exist)', body: ByokConfigPut, response: { 200: ByokConfigResponse, ...errors(400, 401, 429) } } },
    async (req) => {
      const org = orgOf(req);
      const { provider, config } = req.body as { provider: ByokProvider; config: JsonObject };
      const current = deps.store.byok.config(org, provider);
      if (current === undefined) {
        throw badRequest('provider_key_missing', `No ${provider} key is configured; POST /byok first`, 'provider');
      }
      const merged: JsonObject = { ...current, ...config };
      for (const [k, v] of Object.entries(config)) if (v === null) delete merged[k];
      deps.store.byok.setConfig(org, provider, merged);
      return { byok_config: { [provider]: merged } };
    });
}
