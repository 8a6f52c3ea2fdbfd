// Where a resource runs, from the plan JSON: its own attributes first (AWS provider v6 `region`, Azure `location`,
// Google `region`/`zone`, an `availability_zone`), else the provider configuration it uses
// (configuration.provider_config[key].expressions.region: a constant, or a root variable whose value the plan holds).
import { z } from 'zod';

const Expression = z.looseObject({
  constant_value: z.unknown().optional(),
  references: z.array(z.string()).optional(),
});

const ProviderConfig = z.looseObject({
  name: z.string(),
  alias: z.string().optional(),
  module_address: z.string().optional(),
  expressions: z.record(z.string(), z.unknown()).optional(),
});

const ConfigResource = z.looseObject({
  address: z.string(),
  provider_config_key: z.string().optional(),
});

interface ConfigModule {
  resources?: z.infer<typeof ConfigResource>[] | undefined;
  module_calls?: Record<string, { module?: ConfigModule | undefined }> | undefined;
}

const ConfigModuleSchema: z.ZodType<ConfigModule> = z.lazy(() =>
  z.looseObject({
    resources: z.array(ConfigResource).optional(),
    module_calls: z.record(z.string(), z.looseObject({ module: ConfigModuleSchema.optional() })).optional(),
  }),
);

export const PlanConfigSchema = z.looseObject({
  variables: z.record(z.string(), z.looseObject({ value: z.unknown().optional() })).optional(),
  configuration: z
    .looseObject({
      provider_config: z.record(z.string(), ProviderConfig).optional(),
      root_module: ConfigModuleSchema.optional(),
    })
    .optional(),
});

export type PlanConfig = z.infer<typeof PlanConfigSchema>;

/** "East US" → "eastus"; AWS and Google names are already canonical. */
export function normaliseRegion(provider: string, region: string): string {
  const r = region.trim();
  return provider === 'azure' ? r.toLowerCase().replace(/\s+/g, '') : r;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "module.a[0].module.b.aws_instance.x[\"k\"]" → "module.a.module.b.aws_instance.x" (the configuration address). */
export function configAddress(address: string): string {
  return address.replace(/\[[^\]]*\]/g, '');
}

export class RegionResolver {
  private readonly providerRegion = new Map<string, string>();
  private readonly resourceKey = new Map<string, string>();

  constructor(plan: unknown) {
    const parsed = PlanConfigSchema.safeParse(plan);
    if (!parsed.success) return;
    const vars = parsed.data.variables ?? {};
    for (const [key, p] of Object.entries(parsed.data.configuration?.provider_config ?? {})) {
      const region = this.regionOf(p.expressions?.['region'] ?? p.expressions?.['location'], vars, !p.module_address);
      if (region) this.providerRegion.set(key, region);
    }
    const walk = (m: ConfigModule | undefined, prefix: string) => {
      if (!m) return;
      for (const r of m.resources ?? []) {
        if (r.provider_config_key) this.resourceKey.set(`${prefix}${r.address}`, r.provider_config_key);
      }
      for (const [name, call] of Object.entries(m.module_calls ?? {})) walk(call.module, `${prefix}module.${name}.`);
    };
    walk(parsed.data.configuration?.root_module, '');
  }

  private regionOf(expr: unknown, vars: Record<string, { value?: unknown }>, root: boolean): string | undefined {
    const e = Expression.safeParse(expr);
    if (!e.success) return undefined;
    if (typeof e.data.constant_value === 'string' && e.data.constant_value) return e.data.constant_value;
    // `region = var.region` in the root module: the plan records the variable's value.
    const ref = e.data.references?.find((r) => r.startsWith('var.'));
    if (root && ref) {
      const value = vars[ref.slice(4)]?.value;
      if (typeof value === 'string' && value) return value;
    }
    return undefined;
  }

  /** The provider configuration's region for a resource, by its provider_config_key (module-qualified or not). */
  providerRegionFor(address: string, providerName: string): string | undefined {
    const key = this.resourceKey.get(configAddress(address));
    const candidates: string[] = [];
    if (key) {
      candidates.push(key);
      // "module.child:aws.west" → "aws.west": a module that inherits its parent's provider.
      const colon = key.lastIndexOf(':');
      if (colon >= 0) candidates.push(key.slice(colon + 1));
    }
    // registry.terraform.io/hashicorp/aws → aws (the default configuration).
    const local = providerName.split('/').pop();
    if (local) candidates.push(local);
    for (const c of candidates) {
      const r = this.providerRegion.get(c);
      if (r) return r;
    }
    return undefined;
  }

  /** The region of one side of a resource: its attributes first, then its provider configuration. */
  resolve(
    cloud: 'aws' | 'azure' | 'google',
    address: string,
    providerName: string,
    attrs: unknown,
  ): string | undefined {
    if (isRecord(attrs)) {
      const own = ['region', 'location'].map((k) => attrs[k]).find((v) => typeof v === 'string' && v.length > 0);
      if (typeof own === 'string') return normaliseRegion(cloud, cloud === 'google' ? own.replace(/-[a-z]$/, '') : own);
      const zone = attrs['availability_zone'] ?? attrs['zone'];
      if (typeof zone === 'string' && zone) {
        // us-east-1a → us-east-1; us-central1-a → us-central1
        return cloud === 'aws' ? zone.replace(/[a-z]$/, '') : zone.replace(/-[a-z]$/, '');
      }
    }
    const r = this.providerRegionFor(address, providerName);
    return r ? normaliseRegion(cloud, r) : undefined;
  }
}
