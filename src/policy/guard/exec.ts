// PRE-EXEC-001, the hard half of the guard: code that runs on the plan/apply host. Provisioners wherever they can be
// written (resources, `removed {}` blocks, `dynamic "provisioner"`, any module), `data "external"` (top-level or
// scoped in a `check` block), and providers whose purpose is running commands. Never overridable: the fix is to
// remove the construct.
import type { Finding } from '../../core/types.js';
import { makeFinding } from '../findings.js';
import type { TreeFile, TreeModule } from '../module-tree.js';
import { addressOf, type Body, bodies, eachBlock, isBody, lineOf, nodeOf } from './blocks.js';

/** Providers that exist to run commands on the host. */
export const EXEC_PROVIDERS = new Set(['hashicorp/external', 'scottwinkler/shell', 'tenstad/shell']);

const PROVISIONER_WHY: Record<string, string> = {
  'local-exec': 'runs a command on the apply host',
  'remote-exec': 'runs commands on a remote host from the apply host',
  file: 'copies files from the apply host to another machine',
};

/** Every provisioner type written anywhere in a block body (nested blocks, dynamic blocks). */
function* provisioners(value: unknown): Generator<string> {
  for (const body of bodies(value)) {
    for (const [key, v] of Object.entries(body)) {
      if (key === 'provisioner') {
        for (const group of bodies(v)) for (const type of Object.keys(group)) yield type;
      } else if (key === 'dynamic') {
        for (const group of bodies(v)) if ('provisioner' in group) yield 'dynamic "provisioner"';
      }
      if (Array.isArray(v) || isBody(v)) yield* provisioners(v);
    }
  }
}

export function checkHostExec(mod: TreeModule, file: TreeFile): Finding[] {
  const out: Finding[] = [];
  const add = (address: string | undefined, line: number | undefined, message: string) =>
    out.push(makeFinding({ ruleId: 'PRE-EXEC-001', source: 'pregate', address, file: file.rel, line, message }));
  for (const ref of eachBlock(file.parsed.body)) {
    const node = nodeOf(file, ref);
    const address = addressOf(mod, ref);
    const where = ref.kind === 'removed' ? 'a `removed` block: ' : '';
    if (ref.kind === 'data' && ref.labels[0] === 'external')
      add(address, node?.line, 'data "external" runs a program on the plan host during plan');
    if (ref.kind === 'check') continue; // its nested blocks are yielded on their own
    for (const type of provisioners([ref.body])) {
      const why = PROVISIONER_WHY[type] ?? 'runs code during apply';
      const label = type.startsWith('dynamic') ? type : `provisioner "${type}"`;
      add(
        address ?? (ref.kind === 'removed' ? removedAddress(mod, ref.body) : undefined),
        lineOf(file, node, type.startsWith('dynamic') ? 'provisioner' : `"${type}"`) ?? node?.line,
        `${where}${label} ${why}`,
      );
    }
    if (ref.kind === 'terraform') {
      for (const rp of bodies(ref.body['required_providers'])) {
        for (const [local, spec] of Object.entries(rp)) {
          const source = providerSource(local, spec);
          if (EXEC_PROVIDERS.has(source))
            add(
              `${mod.prefix}provider.${local}`,
              lineOf(file, node, source) ?? node?.line,
              `provider "${source}" exists to run commands on the host`,
            );
        }
      }
    }
  }
  return out;
}

function removedAddress(mod: TreeModule, body: Body): string | undefined {
  const from = body['from'];
  if (typeof from !== 'string') return undefined;
  return `${mod.prefix}${from.replace(/^\$\{|\}$/g, '')}`;
}

/** `namespace/type` of a required_providers entry (registry host stripped, lower case). */
export function providerSource(local: string, spec: unknown): string {
  const src = isBody(spec) && typeof spec['source'] === 'string' ? spec['source'] : `hashicorp/${local}`;
  return normalizeProvider(src);
}

export function normalizeProvider(source: string): string {
  return source
    .trim()
    .toLowerCase()
    .replace(/^registry\.terraform\.io\//, '')
    .replace(/^registry\.opentofu\.org\//, '');
}
