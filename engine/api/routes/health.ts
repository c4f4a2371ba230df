import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';

/** GET /health, no authentication (spec §2.1). 503 "degraded" when the database fails. */
export function registerHealth(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/health', { schema: { tags: ['Health'], security: [], summary: 'Health check' } }, async (_req, reply) => {
    const t0 = performance.now();
    let database: { status: 'ok' | 'error'; latency_ms: number; error?: string };
    try {
      deps.store.db.prepare('SELECT 1').get();
      database = { status: 'ok', latency_ms: Math.round(performance.now() - t0) };
    } catch (e) {
      database = { status: 'error', latency_ms: Math.round(performance.now() - t0), error: (e as Error).message };
    }
    const ok = database.status === 'ok';
    return reply.status(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'degraded',
      timestamp: new Date().toISOString(),
      version: deps.version,
      checks: { database },
    });
  });
}
