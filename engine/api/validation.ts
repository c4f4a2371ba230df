import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import { type Problem, validationError } from './errors.js';

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
if (!FormatRegistry.Has('uri')) {
  FormatRegistry.Set('uri', (v) => {
    try {
      return /^[a-z][a-z0-9+.-]*:/i.test(v) && !!new URL(v);
    } catch {
      return false;
    }
  });
}
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v));
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));

/** `/llm_config/tools/0/name` -> `llm_config.tools[0].name` */
export function toParam(path: string): string {
  return path.split('/').filter(Boolean).reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function describe(e: ValueError): string {
  const s = e.schema as TSchema & { anyOf?: TSchema[]; const?: unknown };
  const consts = s.anyOf?.filter((x) => 'const' in x).map((x) => JSON.stringify((x as unknown as { const: unknown }).const));
  if (consts && consts.length) {
    const hasNull = s.anyOf?.some((x) => (x as { type?: string }).type === 'null');
    return `must be one of ${consts.join(', ')}${hasNull ? ' or null' : ''}`;
  }
  switch (e.type) {
    case ValueErrorType.String: return 'must be a string';
    case ValueErrorType.Number: return 'must be a number';
    case ValueErrorType.Integer: return 'must be an integer';
    case ValueErrorType.Boolean: return 'must be a boolean';
    case ValueErrorType.Object: return 'must be an object';
    case ValueErrorType.Array: return 'must be an array';
    case ValueErrorType.StringMinLength: return `must be at least ${(s as { minLength?: number }).minLength} characters`;
    case ValueErrorType.StringMaxLength: return `must be at most ${(s as { maxLength?: number }).maxLength} characters`;
    case ValueErrorType.StringFormat: return `must be a valid ${(s as { format?: string }).format}`;
    case ValueErrorType.StringPattern: return `must match ${(s as { pattern?: string }).pattern}`;
    case ValueErrorType.NumberMinimum: case ValueErrorType.IntegerMinimum: return `must be >= ${(s as { minimum?: number }).minimum}`;
    case ValueErrorType.NumberMaximum: case ValueErrorType.IntegerMaximum: return `must be <= ${(s as { maximum?: number }).maximum}`;
    case ValueErrorType.ArrayMaxItems: return `must have at most ${(s as { maxItems?: number }).maxItems} items`;
    case ValueErrorType.ArrayMinItems: return `must have at least ${(s as { minItems?: number }).minItems} items`;
    case ValueErrorType.Union: {
      const types = (s.anyOf ?? []).map((x) => (x as { type?: string }).type).filter(Boolean);
      return types.length ? `must be ${types.map((t) => (t === 'null' ? 'null' : `a${/^[aeiou]/.test(String(t)) ? 'n' : ''} ${t}`)).join(' or ')}` : 'has an invalid value';
    }
    default: return e.message.replace(/^Expected/, 'must be').toLowerCase();
  }
}

/**
 * A nullable object that fails inside reports a bare "union" error; dig into the variant whose
 * errors lie deeper than the union itself so the message names the real field.
 */
function* flatten(errs: Iterable<ValueError>): Generator<ValueError> {
  for (const e of errs) {
    if (e.type === ValueErrorType.Union && e.errors.length) {
      const variants = e.errors.map((it) => [...it]);
      const deeper = variants.find((v) => v.length > 0 && v.every((x) => x.path !== e.path));
      if (deeper) {
        yield* flatten(deeper);
        continue;
      }
    }
    yield e;
  }
}

export function schemaProblems(schema: TSchema, value: unknown): Problem[] {
  const C = TypeCompiler.Compile(schema);
  if (C.Check(value)) return [];
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const e of flatten(C.Errors(value))) {
    const param = toParam(e.path) || 'body';
    // The first problem per field is the useful one (TypeBox reports a union's failure several ways).
    if (seen.has(param)) continue;
    seen.add(param);
    if (e.type === ValueErrorType.ObjectRequiredProperty || (e.value === undefined && e.path !== '')) {
      out.push({ param, code: 'missing_field', message: `${param} is required` });
    } else {
      out.push({ param, code: 'invalid_value', message: `${param} ${describe(e)}` });
    }
  }
  return out;
}

/**
 * Fastify validator: bodies are checked strictly (no coercion, every problem reported);
 * query strings and path params are converted from strings first.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const C = TypeCompiler.Compile(schema);
  return (data: unknown) => {
    const value = httpPart === 'body' ? data : Value.Convert(schema, data);
    if (C.Check(value)) return { value };
    const problems = schemaProblems(schema, value);
    return { error: validationError(problems.length ? problems : [{ param: httpPart ?? 'body', code: 'invalid_value', message: `${httpPart ?? 'body'} is invalid` }]) };
  };
};
