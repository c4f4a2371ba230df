import { Type, type TSchema } from '@sinclair/typebox';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const E164_RE = /^\+[1-9]\d{6,14}$/;
export const E164 = Type.String({ pattern: '^\\+[1-9]\\d{6,14}$', description: 'E.164 phone number' });
export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Success = Type.Object({ success: Type.Literal(true), message: Type.Optional(Type.String()) });
export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
  code: Type.String(),
  type: Type.String(),
  param: Type.Optional(Type.String()),
  details: Type.Optional(Type.Array(Type.String())),
  retry_after: Type.Optional(Type.Integer()),
});
export const IdParams = Type.Object({ id: Type.String() });
export const Pagination = Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  start_date: Type.Optional(Type.String({ format: 'date-time' })),
  end_date: Type.Optional(Type.String({ format: 'date-time' })),
};
/** A string-literal union with a readable enum in the OpenAPI document. */
export const Enum = <T extends string>(values: readonly T[], opts: { description?: string } = {}) =>
  Type.Union(values.map((v) => Type.Literal(v)), opts);
/** Open JSON object (JSON Schema, metadata, ...). */
export const AnyObject = Type.Object({}, { additionalProperties: true });
/** Common error responses for the OpenAPI document. */
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
