// The shared provider cache (#14 item 7): read-only in every sandbox, filled by the App under a lock with a module of
// its own (never a repository's), and safe for many concurrent inits — real terraform and bubblewrap.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bwrapPath } from '../../src/sandbox/bwrap.js';
import { Terraform } from '../../src/terraform/engine.js';
import {
  fillModule,
  fillProviderCache,
  parseLockFile,
  sharedProviderCache,
  terraformPlatform,
} from '../../src/terraform/provider-cache.js';
import { describeWithTools } from '../helpers/tools.js';

const PROVIDERS = `terraform {
  required_providers {
    random = { source = "hashicorp/random" }
    local  = { source = "hashicorp/local" }
  }
}
`;

describe('the provider cache, by itself', () => {
  it('reads plain pins from a lock file and nothing that could turn into HCL', () => {
    const pins = parseLockFile(
      [
        'provider "registry.terraform.io/hashicorp/random" {\n  version     = "3.6.2"\n  constraints = "~> 3.6"\n  hashes = []\n}',
        'provider "registry.terraform.io/evil/x\\" }\\n" {\n  version = "1.0.0"\n}',
        'provider "registry.terraform.io/acme/thing" {\n  version = "1.0.0\\"\\nresource"\n}',
        'provider "example.com:8443/Acme/widget" {\n  version = "0.1.0-beta.2"\n}',
      ].join('\n'),
    );
    expect(pins).toEqual([
      { source: 'registry.terraform.io/hashicorp/random', version: '3.6.2' },
      { source: 'example.com:8443/acme/widget', version: '0.1.0-beta.2' },
    ]);
    expect(fillModule(pins)).toBe(
      'terraform {\n  required_providers {\n' +
        '    p0 = { source = "registry.terraform.io/hashicorp/random", version = "= 3.6.2" }\n' +
        '    p1 = { source = "example.com:8443/acme/widget", version = "= 0.1.0-beta.2" }\n  }\n}\n',
    );
  });

  it('lets one filler in at a time; the others wait and then find the packages there', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'provider-cache-lock-'));
    try {
      const pin = { source: 'registry.terraform.io/acme/thing', version: '1.0.0' };
      let inside = 0;
      let most = 0;
      let inits = 0;
      const init = async (module: string, staging: string) => {
        inits += 1;
        inside += 1;
        most = Math.max(most, inside);
        expect(readFileSync(join(module, 'main.tf'), 'utf8')).toBe(fillModule([pin]));
        const pkg = join(staging, 'registry.terraform.io', 'acme', 'thing', '1.0.0', terraformPlatform());
        mkdirSync(pkg, { recursive: true });
        writeFileSync(join(pkg, 'terraform-provider-thing'), 'binary');
        await new Promise((r) => setTimeout(r, 50));
        inside -= 1;
      };
      const added = await Promise.all(Array.from({ length: 8 }, () => fillProviderCache({ cache, pins: [pin], init })));
      expect(most).toBe(1);
      expect(inits).toBe(1);
      expect(added.flat()).toEqual([pin]);
      const pkg = join(cache, 'registry.terraform.io', 'acme', 'thing', '1.0.0', terraformPlatform());
      expect(readFileSync(join(pkg, 'terraform-provider-thing'), 'utf8')).toBe('binary');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

const sandboxed = bwrapPath() !== undefined;

describeWithTools(['terraform'], 'the shared provider cache (real terraform, sandboxed)', () => {
  let work: string;
  const saved = { ...process.env };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'provider-cache-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  afterEach(() => {
    process.env = { ...saved };
  });

  const project = (name: string, text: string): string => {
    const dir = join(work, name);
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, 'main.tf'), text);
    return dir;
  };

  it('20 concurrent inits of different projects share it without an error, then link from it read-only', async () => {
    process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache-stress');
    const dirs = Array.from({ length: 20 }, (_, i) =>
      project(`stress-${i}`, `${PROVIDERS}\nresource "random_pet" "p${i}" {\n  length = ${1 + (i % 3)}\n}\n`),
    );
    // Round 1, cold: every init fills (or finds filled) the shared cache; none may fail.
    const cold = dirs.map((dir) => new Terraform({ checkout: dir }));
    const first = await Promise.allSettled(dirs.map((dir, i) => cold[i]?.init(dir)));
    for (const tf of cold) tf.dispose();
    expect(first.filter((r) => r.status === 'rejected')).toEqual([]);
    const shared = sharedProviderCache() ?? '';
    for (const type of ['random', 'local']) {
      expect(existsSync(join(shared, 'registry.terraform.io', 'hashicorp', type))).toBe(true);
    }

    // Round 2, warm (each project now has its lock file): 20 concurrent inits link from the shared cache, and the
    // providers work from there (validate loads them).
    const warm = dirs.map((dir) => new Terraform({ checkout: dir }));
    try {
      const second = await Promise.allSettled(
        dirs.map(async (dir, i) => {
          const tf = warm[i] as Terraform;
          await tf.init(dir);
          return tf.validate(dir);
        }),
      );
      expect(second.filter((r) => r.status === 'rejected')).toEqual([]);
      for (const r of second) if (r.status === 'fulfilled') expect(r.value.valid).toBe(true);
      const link = join(
        (warm[0] as Terraform).dataDir(dirs[0] ?? ''),
        'providers',
        'registry.terraform.io',
        'hashicorp',
        'random',
      );
      const [version] = readdirSync(link);
      const entry = join(link, version ?? '', terraformPlatform());
      expect(readlinkSync(entry).startsWith(realpathSync(shared)) || readlinkSync(entry).startsWith(shared)).toBe(true);
    } finally {
      for (const tf of warm) tf.dispose();
    }
  }, 600_000);

  (sandboxed ? it : it.skip)(
    'is read-only to a run, and a fill sees only the module the App wrote, never the repository',
    async () => {
      process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache-attack');
      const repo = project('attack', `${PROVIDERS}`);
      const secretFile = join(repo, 'repo-secret.txt');
      writeFileSync(secretFile, 'only in the repository');
      // A "terraform" that behaves like a hostile run: it tries to plant a binary in whatever plugin cache it gets,
      // records whether it can see the repository, and pins a provider in the lock file like init does.
      // In a dir of its own: the sandbox binds a tool's dir, which must not be the repository's parent.
      const binDir = join(work, 'fake-bin');
      mkdirSync(binDir);
      const bin = join(binDir, 'terraform');
      writeFileSync(
        bin,
        [
          '#!/bin/sh',
          'pkg="$TF_PLUGIN_CACHE_DIR/registry.terraform.io/acme/thing/1.0.0/' + terraformPlatform() + '"',
          `if [ -e '${secretFile}' ]; then seen=repo-visible; else seen=no-repo; fi`,
          'mkdir -p "$pkg" 2>/dev/null && echo "$seen" > "$pkg/seen" 2>/dev/null',
          'mkdir -p "$TF_PLUGIN_CACHE_DIR/registry.terraform.io/hashicorp/random" 2>/dev/null',
          'echo planted > "$TF_PLUGIN_CACHE_DIR/registry.terraform.io/hashicorp/random/evil" 2>/dev/null',
          `printf 'provider "registry.terraform.io/acme/thing" {\\n  version = "1.0.0"\\n}\\n' > .terraform.lock.hcl`,
          'exit 0',
        ].join('\n'),
        { mode: 0o755 },
      );
      const tf = new Terraform({ bin, checkout: repo });
      try {
        // Cold: the run inits into its own cache; the App then fills the shared one with a module of its own.
        await tf.init(repo);
        const shared = sharedProviderCache() ?? '';
        const pkg = join(shared, 'registry.terraform.io', 'acme', 'thing', '1.0.0', terraformPlatform());
        expect(readFileSync(join(pkg, 'seen'), 'utf8').trim()).toBe('no-repo');
        // What the run planted in its own cache never reached the shared one.
        expect(existsSync(join(shared, 'registry.terraform.io', 'hashicorp', 'random', 'evil'))).toBe(false);
        // Warm: the lock file pins what the cache holds, so init gets the shared cache — read-only.
        await tf.init(repo);
        expect(existsSync(join(shared, 'registry.terraform.io', 'hashicorp', 'random', 'evil'))).toBe(false);
        expect(readFileSync(join(pkg, 'seen'), 'utf8').trim()).toBe('no-repo');
      } finally {
        tf.dispose();
      }
    },
    120_000,
  );
});
