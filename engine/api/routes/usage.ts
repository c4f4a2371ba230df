import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { Problems } from '../errors.js';
import { errors } from '../schemas/common.js';
import { dateRange } from '../schemas/telephony.js';
import { UsageQuery, UsageResponse, usageView } from '../schemas/usage.js';
import { orgOf, page } from './util.js';

/** Usage logs (spec §3.6): one row per finished call, newest first, with a summary of the filter. */
export function registerUsage(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/usage', {
    schema: {
      tags: ['Usage'], summary: 'Get usage logs',
      description: 'Paginated (limit 1–1000, default 100; offset ≥ 0). `start_date`/`end_date` filter on created_at, both inclusive. `summary` covers every row matching the date filter, not only the page.',
      querystring: UsageQuery, response: { 200: UsageResponse, ...errors(400) },
    },
  }, async (req) => {
    const q = req.query as { limit?: number; offset?: number; start_date?: string; end_date?: string };
    const p = new Problems();
    const range = dateRange(q, p);
    p.throwIfAny();
    const { limit, offset } = page(q);
    const r = deps.store.usage.list(orgOf(req), { ...range, limit, offset });
    return {
      logs: r.rows.map(usageView),
      pagination: { total: r.total, limit, offset },
      summary: { total_calls: r.total, total_duration_seconds: r.totalSeconds, total_duration_minutes: r.totalSeconds / 60 },
    };
  });
}
