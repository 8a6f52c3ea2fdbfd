// The redacted state inventory as bounded text for the prompt and the show_state tool: one line per resource with
// a few short attribute values (ids, names) so the model can refer to what exists. Values were already redacted
// by the state reader; long or nested values are left out here.
import type { StateInventory } from '../terraform/state.js';

const PREFERRED = ['id', 'name', 'arn', 'bucket', 'filename', 'region'];
const MAX_ATTRS = 4;
const MAX_VALUE = 80;

function shortValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function formatStateInventory(inv: StateInventory, opts: { maxChars: number; filter?: string }): string {
  const resources = opts.filter ? inv.resources.filter((r) => r.address.includes(opts.filter ?? '')) : inv.resources;
  if (inv.resources.length === 0) return 'The state is empty: nothing has been applied for this project yet.';
  if (resources.length === 0) return `No resource in the state has an address containing "${opts.filter}".`;
  const lines = [`${resources.length} resources in state${opts.filter ? ` matching "${opts.filter}"` : ''}:`];
  let used = lines[0]?.length ?? 0;
  let shown = 0;
  for (const r of resources) {
    const keys = [
      ...PREFERRED.filter((k) => k in r.attributes),
      ...Object.keys(r.attributes).filter((k) => !PREFERRED.includes(k)),
    ];
    const attrs: string[] = [];
    for (const k of keys) {
      if (attrs.length >= MAX_ATTRS) break;
      const v = shortValue(r.attributes[k]);
      if (v !== undefined && v !== '') attrs.push(`${k}=${v}`);
    }
    const line = `- ${r.mode === 'data' ? 'data ' : ''}${r.address}${attrs.length ? `  (${attrs.join(', ')})` : ''}`;
    if (used + line.length + 1 > opts.maxChars - 80) break;
    lines.push(line);
    used += line.length + 1;
    shown += 1;
  }
  if (shown < resources.length) lines.push(`[… ${resources.length - shown} more; use show_state with a filter]`);
  if (!opts.filter && inv.outputs.length > 0) {
    const outs = inv.outputs.map((o) => (o.sensitive ? `${o.name} (sensitive)` : o.name)).join(', ');
    lines.push(`outputs: ${outs.length > 600 ? `${outs.slice(0, 600)}…` : outs}`);
  }
  return lines.join('\n');
}
