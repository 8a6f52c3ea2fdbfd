// A bounded text summary of a repo's Terraform inventory, for prompts and the `index` command.
import type { RepoIndex } from './inventory.js';

function listLine(label: string, items: string[], maxItems: number, count = String(items.length)): string {
  if (items.length === 0) return `${label}: none`;
  const shown = items.slice(0, maxItems);
  const more = items.length > maxItems ? `, … ${items.length - maxItems} more` : '';
  return `${label} (${count}): ${shown.join(', ')}${more}`;
}

/** A compact summary of the inventory, at most maxChars long whatever the size of the repo. */
export function summarizeIndex(index: RepoIndex, opts: { maxChars?: number; maxItems?: number } = {}): string {
  const maxChars = opts.maxChars ?? 4000;
  const maxItems = opts.maxItems ?? 20;
  if (index.files.length === 0) return 'No Terraform files (.tf / .tf.json) in this repository.';
  const lines: string[] = [];
  lines.push(`${index.files.length} Terraform files, ${index.rootModules.length} root modules.`);
  lines.push(listLine('Root modules', index.rootModules, maxItems));
  const backends = index.backends.map((b) => `${b.dir}: ${b.type}`);
  lines.push(listLine('Backends', backends, maxItems));
  // A provider without a source is hashicorp/<name> (Terraform's implied source) unless its module says otherwise.
  const sourceOf = new Map(index.providers.filter((p) => p.source).map((p) => [`${p.dir}\u0000${p.name}`, p.source]));
  const versions = new Map<string, Set<string>>();
  for (const p of index.providers) {
    const source = p.source ?? sourceOf.get(`${p.dir}\u0000${p.name}`) ?? `hashicorp/${p.name}`;
    const set = versions.get(source) ?? new Set<string>();
    if (p.version) set.add(p.version);
    versions.set(source, set);
  }
  const providers = [...versions.entries()].map(([source, v]) =>
    v.size > 0 ? `${source} (${[...v].join('; ')})` : source,
  );
  lines.push(listLine('Providers', providers.sort(), maxItems));
  const modules = index.modules.map((m) => `${m.dir}/${m.name} ← ${m.source}${m.version ? `@${m.version}` : ''}`);
  lines.push(listLine('Module calls', modules, maxItems));
  const byType = new Map<string, number>();
  for (const r of index.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const types = [...byType.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t, n]) => `${t}×${n}`);
  const count = `${index.resources.length} in ${types.length} types`;
  lines.push(listLine('Resources by type', types, maxItems, count));
  const dataTypes = [...new Set(index.dataSources.map((d) => d.type))].sort();
  lines.push(listLine('Data sources', dataTypes, maxItems));
  const variables = index.variables.map(
    (v) => `${v.dir === '.' ? '' : `${v.dir}:`}${v.name}${v.sensitive ? ' (sensitive)' : ''}`,
  );
  lines.push(listLine('Variables', variables, maxItems));
  if (index.errors.length > 0) {
    lines.push(
      listLine(
        'Parse errors',
        index.errors.map((e) => `${e.file}:${e.line}: ${e.message.slice(0, 120)}`),
        5,
      ),
    );
  }
  const text = lines.join('\n');
  if (text.length <= maxChars) return text;
  const note = '\n… (summary cut)';
  return `${text.slice(0, Math.max(0, maxChars - note.length))}${note}`;
}
