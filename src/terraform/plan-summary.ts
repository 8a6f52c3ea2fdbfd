// Plan JSON (`terraform show -json plan`) → PlanSummary, and its markdown form. The plan is untrusted input: it is
// validated with a schema that is strict about the fields read and lenient about everything else, and no attribute
// VALUE ever leaves this module — only names — because plan JSON carries sensitive values in clear text.
import { z } from 'zod';
import type {
  DriftSummary,
  OutputChangeSummary,
  PlanSummary,
  ResourceAction,
  ResourceChangeSummary,
} from '../core/types.js';

export class PlanJsonError extends Error {
  override readonly name = 'PlanJsonError';
}

const ACTIONS = ['no-op', 'create', 'read', 'update', 'delete', 'forget'] as const;

const ChangeSchema = z.looseObject({
  actions: z.array(z.enum(ACTIONS)).min(1),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
  importing: z.looseObject({}).nullable().optional(),
});

const ResourceChangeSchema = z.looseObject({
  address: z.string().min(1),
  module_address: z.string().optional(),
  mode: z.enum(['managed', 'data']),
  type: z.string(),
  name: z.string(),
  provider_name: z.string().default(''),
  deposed: z.string().optional(),
  change: ChangeSchema,
});

const PlanSchema = z.looseObject({
  format_version: z.string(),
  terraform_version: z.string().default(''),
  resource_changes: z.array(ResourceChangeSchema).default([]),
  resource_drift: z.array(ResourceChangeSchema).default([]),
  output_changes: z.record(z.string(), ChangeSchema).default({}),
  errored: z.boolean().default(false),
});

type Change = z.infer<typeof ChangeSchema>;

/** The single action a raw actions array stands for. */
export function toAction(actions: readonly string[], importing = false): ResourceAction {
  const set = new Set(actions);
  if (set.has('delete') && set.has('create')) return 'replace';
  if (set.has('create')) return 'create';
  if (set.has('delete')) return 'delete';
  if (set.has('update')) return 'update';
  if (set.has('read')) return 'read';
  if (set.has('forget')) return 'forget';
  return importing ? 'import' : 'no-op';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!deepEqual(a[k] ?? null, b[k] ?? null)) return false;
    return true;
  }
  return false;
}

/** True when a sensitivity/unknown marker (`true`, or a structure containing `true`) is set anywhere. */
function marked(v: unknown): boolean {
  if (v === true) return true;
  if (Array.isArray(v)) return v.some(marked);
  if (isRecord(v)) return Object.values(v).some(marked);
  return false;
}

function unknownAttributes(change: Change): string[] {
  if (change.after_unknown === true) return [];
  if (!isRecord(change.after_unknown)) return [];
  return Object.entries(change.after_unknown)
    .filter(([, v]) => marked(v))
    .map(([k]) => k)
    .sort();
}

/**
 * Top-level attribute names whose value changes. A value that becomes unknown counts as changing when it had one.
 * For a create, the attributes set in config; for a delete, none (the whole object goes).
 */
function changedAttributes(change: Change, action: ResourceAction): string[] {
  const before = isRecord(change.before) ? change.before : {};
  const after = isRecord(change.after) ? change.after : {};
  const unknown = isRecord(change.after_unknown) ? change.after_unknown : {};
  if (action === 'delete' || action === 'forget' || action === 'read') return [];
  const names = new Set<string>();
  if (action === 'create') {
    for (const [k, v] of Object.entries(after)) if (v !== null && !isEmptyCollection(v)) names.add(k);
    return [...names].sort();
  }
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[k] ?? null;
    const a = after[k] ?? null;
    if (unknown[k] === true) {
      if (b !== null) names.add(k);
      continue;
    }
    if (!deepEqual(b, a)) names.add(k);
  }
  return [...names].sort();
}

function isEmptyCollection(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);
}

/** ["tags","Name"] → "tags.Name"; ["ingress",0,"cidr_blocks"] → "ingress[0].cidr_blocks". */
function renderPath(path: (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

function summarizeResource(rc: z.infer<typeof ResourceChangeSchema>): ResourceChangeSummary {
  const importing = rc.change.importing !== undefined && rc.change.importing !== null;
  const action = toAction(rc.change.actions, importing);
  return {
    address: rc.deposed ? `${rc.address} (deposed ${rc.deposed})` : rc.address,
    type: rc.type,
    name: rc.name,
    module: rc.module_address ?? '',
    mode: rc.mode,
    action,
    actions: [...rc.change.actions],
    changedAttributes: changedAttributes(rc.change, action),
    unknownAttributes: unknownAttributes(rc.change),
    replacePaths: [...new Set((rc.change.replace_paths ?? []).map(renderPath))].sort(),
    importing,
    providerName: rc.provider_name,
  };
}

/**
 * Summarises `terraform show -json <planfile>`. Counts follow Terraform's own "Plan: X to add, Y to change, Z to
 * destroy" line, so they match what users see: a replace counts once in `add` and once in `destroy`, and `replace`
 * says how many of those were replaces. `import` counts resources being imported (whatever else happens to them),
 * `read` data sources read during apply, `noop` resources left alone. `resources` lists every resource that is not a
 * plain no-op (an import with no other change is listed, as action "import").
 */
export function summarizePlan(planJson: unknown): PlanSummary {
  const parsed = PlanSchema.safeParse(planJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'plan';
    throw new PlanJsonError(`not a Terraform plan JSON: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const plan = parsed.data;
  const counts = { add: 0, change: 0, destroy: 0, replace: 0, import: 0, read: 0, noop: 0 };
  const resources: ResourceChangeSummary[] = [];
  for (const rc of plan.resource_changes) {
    const summary = summarizeResource(rc);
    if (summary.importing) counts.import++;
    switch (summary.action) {
      case 'create':
        counts.add++;
        break;
      case 'update':
        counts.change++;
        break;
      case 'delete':
        counts.destroy++;
        break;
      case 'replace':
        counts.replace++;
        counts.add++;
        counts.destroy++;
        break;
      case 'read':
        counts.read++;
        break;
      case 'no-op':
        counts.noop++;
        break;
      case 'import':
        break;
      case 'forget':
        break;
    }
    if (summary.action !== 'no-op') resources.push(summary);
  }

  const drift: DriftSummary[] = plan.resource_drift.map((rc) => {
    const action = toAction(rc.change.actions);
    return { address: rc.address, action, changedAttributes: changedAttributes(rc.change, action) };
  });

  const outputs: OutputChangeSummary[] = Object.entries(plan.output_changes)
    .map(([name, change]) => ({
      name,
      action: toAction(change.actions),
      sensitive: marked(change.before_sensitive) || marked(change.after_sensitive),
    }))
    .filter((o) => o.action !== 'no-op')
    .sort((a, b) => a.name.localeCompare(b.name));

  const empty = resources.every((r) => r.action === 'read') && outputs.length === 0;
  return {
    terraformVersion: plan.terraform_version,
    formatVersion: plan.format_version,
    counts,
    resources,
    drift,
    outputs,
    empty,
    errored: plan.errored,
  };
}

// ---- Markdown ---------------------------------------------------------------------------------------------------

const SYMBOL: Record<ResourceAction, string> = {
  create: '+',
  update: '~',
  delete: '-',
  replace: '±',
  read: '<=',
  'no-op': ' ',
  import: '→',
  forget: '⊘',
};

/** Plan text is untrusted: keep it from breaking out of a table cell or code span. */
function cell(text: string): string {
  return text.replace(/[`|\r\n<>]/g, (c) =>
    c === '|' ? '\\|' : c === '`' ? "'" : c === '<' ? '‹' : c === '>' ? '›' : ' ',
  );
}

function code(text: string): string {
  return `\`${cell(text)}\``;
}

/** The one-line headline Terraform users know: "Plan: 1 to add, 2 to change, 0 to destroy." (+ import). */
export function planHeadline(summary: PlanSummary): string {
  const c = summary.counts;
  if (summary.empty) return 'No changes. Infrastructure matches the configuration.';
  const parts = [`${c.add} to add`, `${c.change} to change`, `${c.destroy} to destroy`];
  if (c.import > 0) parts.unshift(`${c.import} to import`);
  return `Plan: ${parts.join(', ')}.`;
}

export function renderPlanSummaryMarkdown(
  summary: PlanSummary,
  opts: { title?: string; maxResources?: number } = {},
): string {
  const c = summary.counts;
  const max = opts.maxResources ?? 50;
  const lines: string[] = [];
  if (opts.title) lines.push(`### ${cell(opts.title)}`, '');
  lines.push(`**${planHeadline(summary)}**`, '');
  if (summary.errored) lines.push('> [!CAUTION]', '> The plan errored: this summary covers only part of it.', '');
  const destroyed = summary.resources.filter((r) => r.action === 'delete');
  const replaced = summary.resources.filter((r) => r.action === 'replace');
  if (destroyed.length > 0 || replaced.length > 0) {
    const what: string[] = [];
    if (destroyed.length > 0) what.push(`destroys ${destroyed.length}`);
    if (replaced.length > 0) what.push(`replaces ${replaced.length}`);
    const names = [...destroyed, ...replaced].slice(0, 10).map((r) => code(r.address));
    const more = destroyed.length + replaced.length > 10 ? `, … ${destroyed.length + replaced.length - 10} more` : '';
    lines.push(`⚠️ **This plan ${what.join(' and ')} resource(s):** ${names.join(', ')}${more}`, '');
  }
  lines.push(
    '| add | change | destroy | replace | import | read | no-op |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${c.add} | ${c.change} | ${c.destroy} | ${c.replace} | ${c.import} | ${c.read} | ${c.noop} |`,
    '',
  );
  if (summary.resources.length > 0) {
    lines.push('| | Resource | Action | Changed attributes |', '|:-:|---|---|---|');
    for (const r of summary.resources.slice(0, max)) {
      const action = r.importing && r.action !== 'import' ? `import + ${r.action}` : r.action;
      const why = r.replacePaths.length > 0 ? ` (forced by ${r.replacePaths.map(code).join(', ')})` : '';
      const attrs = r.action === 'create' || r.action === 'delete' ? '' : r.changedAttributes.map(code).join(', ');
      lines.push(`| \`${SYMBOL[r.action]}\` | ${code(r.address)} | ${action}${why} | ${attrs} |`);
    }
    if (summary.resources.length > max) lines.push(`| | … ${summary.resources.length - max} more | | |`);
    lines.push('');
  }
  if (summary.outputs.length > 0) {
    const outs = summary.outputs.map((o) => `${code(o.name)} (${o.action}${o.sensitive ? ', sensitive' : ''})`);
    lines.push(`Outputs: ${outs.join(', ')}`, '');
  }
  if (summary.drift.length > 0) {
    const drifted = summary.drift.slice(0, 10).map((d) => `${code(d.address)} (${d.action})`);
    const more = summary.drift.length > 10 ? `, … ${summary.drift.length - 10} more` : '';
    lines.push(`Drift detected outside Terraform: ${drifted.join(', ')}${more}`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
