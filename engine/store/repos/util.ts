export type Row = Record<string, unknown>;
export type JsonObject = { [k: string]: unknown };

export const j = <T>(s: unknown, fallback: T): T => (typeof s === 'string' ? (JSON.parse(s) as T) : fallback);
export const b = (v: unknown): boolean => v === 1 || v === true;
export const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
