// The current state of a root module as an inventory safe to show a model or a human: every value Terraform marks
// sensitive is replaced with "[SENSITIVE]", sensitive outputs lose their value, credential-looking strings are
// redacted and long strings are truncated. State JSON carries secrets in clear text, so nothing raw leaves here.
import { z } from 'zod';
import { redact } from '../util/redact.js';
import type { CallOptions, Terraform } from './engine.js';

export interface StateResource {
  address: string;
  type: string;
  name: string;
  /** '' for the root module, e.g. 'module.vpc'. */
  module: string;
  mode: 'managed' | 'data';
  attributes: Record<string, unknown>;
}

export interface StateInventory {
  terraformVersion?: string;
  resources: StateResource[];
  outputs: { name: string; sensitive: boolean; value?: unknown }[];
}

export const SENSITIVE = '[SENSITIVE]';
const MAX_STRING = 256;
const MAX_ITEMS = 50;

const StateResourceSchema = z.looseObject({
  address: z.string(),
  mode: z.enum(['managed', 'data']),
  type: z.string(),
  name: z.string(),
  values: z.unknown().optional(),
  sensitive_values: z.unknown().optional(),
});

interface ModuleShape {
  address?: string | undefined;
  resources: z.infer<typeof StateResourceSchema>[];
  child_modules: ModuleShape[];
}

const ModuleSchema: z.ZodType<ModuleShape> = z.lazy(() =>
  z.looseObject({
    address: z.string().optional(),
    resources: z.array(StateResourceSchema).default([]),
    child_modules: z.array(ModuleSchema).default([]),
  }),
);

const StateSchema = z.looseObject({
  format_version: z.string().optional(),
  terraform_version: z.string().optional(),
  values: z
    .looseObject({
      outputs: z
        .record(z.string(), z.looseObject({ sensitive: z.boolean().default(false), value: z.unknown().optional() }))
        .default({}),
      root_module: ModuleSchema.optional(),
    })
    .optional(),
});

export class StateJsonError extends Error {
  override readonly name = 'StateJsonError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value with every position the mask marks `true` replaced, and strings made safe to show. */
export function redactValue(value: unknown, mask: unknown): unknown {
  if (mask === true) return SENSITIVE;
  if (typeof value === 'string') {
    const clean = redact(value);
    return clean.length > MAX_STRING
      ? `${clean.slice(0, MAX_STRING)}… [${clean.length - MAX_STRING} more chars]`
      : clean;
  }
  if (Array.isArray(value)) {
    const masks = Array.isArray(mask) ? mask : [];
    const items = value.slice(0, MAX_ITEMS).map((v, i) => redactValue(v, masks[i]));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more items`);
    return items;
  }
  if (isRecord(value)) {
    const masks = isRecord(mask) ? mask : {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, masks[k]);
    return out;
  }
  return value;
}

/** `show -json` of the state (no plan file) → a redacted inventory. An empty state gives an empty inventory. */
export function summarizeState(showJson: unknown): StateInventory {
  const parsed = StateSchema.safeParse(showJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StateJsonError(
      `not a Terraform state JSON: ${issue?.path.join('.') || 'state'}: ${issue?.message ?? ''}`,
    );
  }
  const state = parsed.data;
  const resources: StateResource[] = [];
  const walk = (mod: ModuleShape, depth: number) => {
    for (const r of mod.resources) {
      const values = isRecord(r.values) ? r.values : {};
      const attributes = redactValue(values, r.sensitive_values);
      resources.push({
        address: r.address,
        type: r.type,
        name: r.name,
        module: mod.address ?? '',
        mode: r.mode,
        attributes: isRecord(attributes) ? attributes : {},
      });
    }
    // Module trees are shallow in practice; the bound only guards against a hostile document.
    if (depth < 32) for (const child of mod.child_modules) walk(child, depth + 1);
  };
  if (state.values?.root_module) walk(state.values.root_module, 0);

  const outputs = Object.entries(state.values?.outputs ?? {})
    .map(([name, o]) =>
      o.sensitive ? { name, sensitive: true } : { name, sensitive: false, value: redactValue(o.value, undefined) },
    )
    .sort((a, b) => a.name.localeCompare(b.name));

  const inventory: StateInventory = { resources, outputs };
  if (state.terraform_version) inventory.terraformVersion = state.terraform_version;
  return inventory;
}

/** Reads and summarises the state of an initialised root module (in its selected workspace). */
export async function readState(tf: Terraform, dir: string, opts: CallOptions = {}): Promise<StateInventory> {
  return summarizeState(await tf.showStateJson(dir, opts));
}
