// Provider schemas kept per exact provider versions (#17 item 3): asked of terraform once, then read back — real
// terraform, offline providers.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Terraform } from '../../src/terraform/engine.js';
import { schemaCacheFile } from '../../src/terraform/schema-cache.js';
import { describeWithTools } from '../helpers/tools.js';

describeWithTools(['terraform'], 'provider schemas cached per provider version (real terraform)', () => {
  let work: string;
  const saved = { ...process.env };
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'schema-cache-'));
    process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  afterEach(() => {
    process.env = { ...saved, INFRA_AGENT_CACHE_DIR: join(work, 'cache') };
  });

  const module = (name: string): string => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'main.tf'),
      'terraform {\n  required_providers {\n    random = { source = "hashicorp/random" }\n  }\n}\n',
    );
    return dir;
  };

  it('asks terraform once per exact provider versions, then reads the document back', async () => {
    const a = module('a');
    const tf = new Terraform({ checkout: a });
    try {
      await tf.init(a, { backend: false });
      const schema = (await tf.providersSchema(a)) as { provider_schemas?: Record<string, unknown> };
      expect(Object.keys(schema.provider_schemas ?? {})).toEqual(['registry.terraform.io/hashicorp/random']);
      const file = (await schemaCacheFile(tf.bin, a)) ?? '';
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(schema);
      // Another module pinning the same versions gets the kept document, not a new terraform call.
      writeFileSync(file, JSON.stringify({ kept: true }));
      const b = module('b');
      writeFileSync(join(b, '.terraform.lock.hcl'), readFileSync(join(a, '.terraform.lock.hcl')));
      expect(await schemaCacheFile(tf.bin, b)).toBe(file);
      expect(await tf.providersSchema(b)).toEqual({ kept: true });
      // Another version is another key; no lock file, no cache.
      writeFileSync(
        join(b, '.terraform.lock.hcl'),
        readFileSync(join(a, '.terraform.lock.hcl'), 'utf8').replace(/version\s*=\s*"[^"]+"/, 'version = "0.0.1"'),
      );
      expect(await schemaCacheFile(tf.bin, b)).not.toBe(file);
      rmSync(join(b, '.terraform.lock.hcl'));
      expect(await schemaCacheFile(tf.bin, b)).toBeUndefined();
    } finally {
      tf.dispose();
    }
  }, 120_000);
});
