import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ApiError } from './errors.js';
import { applyRateLimit, authenticate, RateLimiter } from './auth.js';
import { validatorCompiler } from './validation.js';
import type { ApiDeps } from './deps.js';
import { registerRoutes } from './routes/index.js';

const PUBLIC = new Set(['/api/v1/health', '/api/v1/openapi.json']);
const isPublic = (url: string): boolean => {
  const path = url.split('?')[0] as string;
  return PUBLIC.has(path) || path === '/api/v1/docs' || path.startsWith('/api/v1/docs/') || !path.startsWith('/api/');
};

/** Fastify's own error codes mapped to the spec's error shape. */
function fromFastify(err: FastifyError): ApiError {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_json', 'Request body is empty; send a JSON object');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'invalid_request', 'Request body is too large');
    default:
      if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return new ApiError(400, 'invalid_json', `Request body is not valid JSON: ${err.message}`);
      }
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return new ApiError(err.statusCode, 'invalid_request', err.message);
      }
      return new ApiError(500, 'internal_error', 'Internal server error');
  }
}

/** The admin REST API (spec §3) under /api/v1, with OpenAPI at /api/v1/openapi.json and docs at /api/v1/docs. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  // pino's Logger and fastify's base logger type differ only in generics.
  const loggerInstance = deps.log.child({ part: 'api' }) as unknown as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: 5 * 1024 * 1024,
    ajv: { customOptions: { allErrors: true } },
  });
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API; bodies are serialised as they are (no silent field stripping).
  app.setSerializerCompiler(() => (data) => (typeof data === 'string' ? data : JSON.stringify(data)));
  app.decorateRequest('auth', null);
  // JSON only (spec §2.2): anything else is a 415.
  app.removeContentTypeParser('text/plain');

  const limiter = new RateLimiter(deps.config.api.rateLimitPerMinute, 60_000, deps.now);

  app.addHook('onRequest', async (req, reply) => {
    if (isPublic(req.url)) return;
    req.auth = authenticate(deps.store, req);
    applyRateLimit(limiter, req.auth.keyId, reply);
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const e = err instanceof ApiError ? err : fromFastify(err);
    if (e.statusCode >= 500) req.log.error({ err }, 'request failed');
    void reply.status(e.statusCode).send(e.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new ApiError(404, 'not_found', `No route ${req.method} ${req.url.split('?')[0]}`).toBody());
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Voice engine admin API',
        version: deps.version,
        description: 'Self-hosted telephony voice-agent engine. Authenticate with `Authorization: Bearer <API key>`.',
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (v1) => registerRoutes(v1, deps), { prefix: '/api/v1' });

  // Prometheus text format. Open when the API listens on loopback or METRICS_PUBLIC is set; else an API key is needed.
  const metrics = deps.metrics;
  if (metrics) {
    const loopback = /^(127\.|::1$|localhost$)/.test(deps.config.api.host);
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      if (!loopback && !deps.config.api.publicMetrics) authenticate(deps.store, req);
      const body = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(body);
    });
  }
  return app;
}
