// describe_resource_schema: the real attributes of a resource or data source type, from `terraform providers schema
// -json` of the project's installed providers. This is what keeps the model from inventing attributes. The schema
// document is fetched once per run (it is large and slow to produce) and parsed with zod.
import { z } from 'zod';
import type { ProvidersSchemaLookup } from '../environment.js';
import { cap, defineTool, type ToolContext, ToolError } from './types.js';

interface Block {
  attributes?: Record<string, Attribute> | undefined;
  block_types?: Record<string, NestedBlock> | undefined;
  description?: string | undefined;
  deprecated?: boolean | undefined;
}
interface Attribute {
  type?: unknown;
  nested_type?: { attributes?: Record<string, Attribute> | undefined; nesting_mode?: string | undefined } | undefined;
  description?: string | undefined;
  required?: boolean | undefined;
  optional?: boolean | undefined;
  computed?: boolean | undefined;
  sensitive?: boolean | undefined;
  deprecated?: boolean | undefined;
}
interface NestedBlock {
  nesting_mode?: string | undefined;
  block: Block;
  min_items?: number | undefined;
  max_items?: number | undefined;
}

const AttributeSchema: z.ZodType<Attribute> = z.lazy(() =>
  z
    .object({
      type: z.unknown().optional(),
      nested_type: z
        .object({ attributes: z.record(z.string(), AttributeSchema).optional(), nesting_mode: z.string().optional() })
        .loose()
        .optional(),
      description: z.string().optional(),
      required: z.boolean().optional(),
      optional: z.boolean().optional(),
      computed: z.boolean().optional(),
      sensitive: z.boolean().optional(),
      deprecated: z.boolean().optional(),
    })
    .loose(),
);
const BlockSchema: z.ZodType<Block> = z.lazy(() =>
  z
    .object({
      attributes: z.record(z.string(), AttributeSchema).optional(),
      block_types: z.record(z.string(), NestedBlockSchema).optional(),
      description: z.string().optional(),
      deprecated: z.boolean().optional(),
    })
    .loose(),
);
const NestedBlockSchema: z.ZodType<NestedBlock> = z.lazy(() =>
  z
    .object({
      nesting_mode: z.string().optional(),
      block: BlockSchema,
      min_items: z.number().optional(),
      max_items: z.number().optional(),
    })
    .loose(),
);
const ProviderSchemas = z
  .object({
    provider_schemas: z
      .record(
        z.string(),
        z
          .object({
            resource_schemas: z.record(z.string(), z.object({ block: BlockSchema }).loose()).optional(),
            data_source_schemas: z.record(z.string(), z.object({ block: BlockSchema }).loose()).optional(),
          })
          .loose(),
      )
      .default({}),
  })
  .loose();

function typeToString(t: unknown): string {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const [kind, inner] = t;
    if (kind === 'object' && inner && typeof inner === 'object') {
      return `object({${Object.entries(inner)
        .map(([k, v]) => `${k}=${typeToString(v)}`)
        .join(', ')}})`;
    }
    return `${String(kind)}(${typeToString(inner)})`;
  }
  return 'dynamic';
}

function oneLine(s: string | undefined, max = 140): string {
  if (!s) return '';
  const t = s.replace(/\s+/g, ' ').trim();
  return ` — ${t.length > max ? `${t.slice(0, max)}…` : t}`;
}

function renderBlock(block: Block, indent: string, depth: number, out: string[]): void {
  const attrs = Object.entries(block.attributes ?? {}).sort(([a, x], [b, y]) => {
    const rank = (v: Attribute): number => (v.required ? 0 : v.optional ? 1 : 2);
    return rank(x) - rank(y) || (a < b ? -1 : 1);
  });
  for (const [name, a] of attrs) {
    const flags = [a.required ? 'required' : a.optional ? 'optional' : '', a.computed ? 'computed' : '']
      .filter(Boolean)
      .join('+');
    const type = a.nested_type ? `nested ${a.nested_type.nesting_mode ?? ''}`.trim() : typeToString(a.type);
    out.push(
      `${indent}${name}  ${type}  ${flags || 'computed'}${a.sensitive ? '  SENSITIVE' : ''}${a.deprecated ? '  DEPRECATED' : ''}${oneLine(a.description)}`,
    );
    if (a.nested_type?.attributes && depth < 3) {
      renderBlock({ attributes: a.nested_type.attributes }, `${indent}    `, depth + 1, out);
    }
  }
  for (const [name, nb] of Object.entries(block.block_types ?? {})) {
    const limits = [
      nb.nesting_mode ?? 'list',
      nb.min_items ? `min ${nb.min_items}` : '',
      nb.max_items ? `max ${nb.max_items}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(`${indent}block ${name} { }  (${limits})${nb.block.deprecated ? '  DEPRECATED' : ''}`);
    if (depth < 3) renderBlock(nb.block, `${indent}    `, depth + 1, out);
    else out.push(`${indent}    …`);
  }
}

async function loadSchemas(ctx: ToolContext): Promise<z.infer<typeof ProviderSchemas> | string> {
  ctx.session.schema ??= ctx.env.providersSchema(ctx.signal);
  let lookup: ProvidersSchemaLookup;
  try {
    lookup = await ctx.session.schema;
  } catch (err) {
    ctx.session.schema = undefined; // a transient failure may be retried by a later call
    return `provider schemas could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!lookup.ok) return lookup.reason;
  const parsed = ProviderSchemas.safeParse(lookup.schema);
  if (!parsed.success) return 'the provider schema document could not be read';
  return parsed.data;
}

export const describeResourceSchemaTool = defineTool({
  name: 'describe_resource_schema',
  description:
    'The attributes and nested blocks of a resource or data source type (required/optional/computed, types, ' +
    'sensitive), from the providers installed for this project. Use it before writing a resource type you have ' +
    'not seen in the repository: never guess attribute names.',
  input: z
    .object({
      type: z
        .string()
        .regex(/^[a-z0-9_]{1,100}$/)
        .describe('e.g. "aws_s3_bucket"'),
      kind: z.enum(['resource', 'data']).default('resource'),
    })
    .strict(),
  async run(input, ctx) {
    const schemas = await loadSchemas(ctx);
    if (typeof schemas === 'string') {
      throw new ToolError(
        `provider schemas are not available: ${schemas}. Follow the patterns already used in the repository and ` +
          'say in notes_for_reviewer which attributes you could not verify.',
      );
    }
    const known: string[] = [];
    for (const [provider, p] of Object.entries(schemas.provider_schemas)) {
      const table = input.kind === 'data' ? p.data_source_schemas : p.resource_schemas;
      const hit = table?.[input.type];
      if (hit) {
        const out = [`${input.kind} "${input.type}" (provider ${provider})`];
        renderBlock(hit.block, '  ', 0, out);
        return cap(out.join('\n'), 14_000, 'the nested blocks were cut');
      }
      known.push(...Object.keys(table ?? {}));
    }
    const prefix = input.type.split('_')[0] ?? '';
    const close = known.filter((k) => k.startsWith(prefix)).slice(0, 40);
    throw new ToolError(
      `no ${input.kind} type "${input.type}" in the installed providers` +
        (close.length ? `. Known types with the same prefix: ${close.join(', ')}` : '') +
        (known.length === 0 ? ' (no provider with such types is installed for this project)' : ''),
    );
  },
});
