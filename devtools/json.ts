// JSON values as a type, and a walk that turns parsed-but-untyped JSON (`unknown`) into it without a cast.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` as Json; anything JSON cannot hold (functions, undefined, symbols) becomes null, as JSON.stringify would. */
export function toJson(value: unknown): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return null;
}

export function toJsonObject(value: unknown, what: string): JsonObject {
  const j = toJson(value);
  if (!isJsonObject(j)) throw new Error(`${what} is not a JSON object`);
  return j;
}
