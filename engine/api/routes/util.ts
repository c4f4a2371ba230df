import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/** The caller's organization (every resource is scoped by it; foreign ids are 404). */
export function orgOf(req: FastifyRequest): string {
  if (!req.auth) throw new ApiError(401, 'unauthorized', 'Invalid or missing API key');
  return req.auth.orgId;
}

/** `limit`/`offset` with the spec's defaults (100 / 0) and bounds (checked by the schema). */
export function page(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  return { limit: q.limit ?? 100, offset: q.offset ?? 0 };
}
