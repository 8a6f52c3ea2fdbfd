// Each project's .terraform reused across runs (#17 item 3): kept per repository + project path in the App's cache
// dir, held by one run at a time, forgetting the last run's workspace, and read-only to everything but terraform's
// own init/workspace — real terraform and bubblewrap.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bwrapPath } from '../../src/sandbox/bwrap.js';
import { checkoutIdentity } from '../../src/terraform/data-dirs.js';
import { Terraform } from '../../src/terraform/engine.js';
import { describeWithTools } from '../helpers/tools.js';

describe('checkoutIdentity', () => {
  it("is the origin URL the App's git wrote, without credentials", () => {
    const dir = mkdtempSync(join(tmpdir(), 'identity-'));
    try {
      mkdirSync(join(dir, '.git'));
      expect(checkoutIdentity(dir)).toBeUndefined();
      writeFileSync(
        join(dir, '.git', 'config'),
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/other/repo.git\n' +
          '[remote "origin"]\n\turl = https://x-access-token:redacted@github.com/acme/infra.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
      );
      expect(checkoutIdentity(dir)).toBe('https://github.com/acme/infra');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithTools(['terraform'], 'reused data dirs (real terraform)', () => {
  let work: string;
  const saved = { ...process.env };
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'data-dirs-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  afterEach(() => {
    process.env = { ...saved };
  });

  /** A fresh clone of the same project, as each run gets one. */
  const clone = (name: string, text: string): string => {
    const dir = join(work, name);
    mkdirSync(join(dir, '.git'), { recursive: true });
    mkdirSync(join(dir, 'envs', 'prod'), { recursive: true });
    writeFileSync(join(dir, 'envs', 'prod', 'main.tf'), text);
    return dir;
  };
  const MODULE = 'resource "terraform_data" "x" {\n  input = "a"\n}\n';

  it("the next run of the same project gets the same .terraform, without the last run's workspace", async () => {
    process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache-reuse');
    const a = clone('run-a', MODULE);
    const tfA = new Terraform({ checkout: a, reuse: 'https://github.com/acme/infra' });
    const dataA = tfA.dataDir(join(a, 'envs', 'prod'));
    await tfA.init(join(a, 'envs', 'prod'));
    await tfA.selectWorkspace(join(a, 'envs', 'prod'), 'staging');
    expect(existsSync(join(dataA, 'environment'))).toBe(true);
    tfA.dispose();
    // The reused dir outlives the run that made it.
    expect(existsSync(dataA)).toBe(true);

    const b = clone('run-b', MODULE);
    const tfB = new Terraform({ checkout: b, reuse: 'https://github.com/acme/infra' });
    try {
      expect(tfB.dataDir(join(b, 'envs', 'prod'))).toBe(dataA);
      expect(existsSync(join(dataA, 'environment'))).toBe(false);
      await tfB.init(join(b, 'envs', 'prod'));
      expect((await tfB.validate(join(b, 'envs', 'prod'))).valid).toBe(true);
      // Another repository, or another project path, never shares it.
      const other = new Terraform({ checkout: b, reuse: 'https://github.com/acme/other' });
      expect(other.dataDir(join(b, 'envs', 'prod'))).not.toBe(dataA);
      other.dispose();
      // While run B holds it, a concurrent run of the same project gets a private one.
      const c = clone('run-c', MODULE);
      const tfC = new Terraform({ checkout: c, reuse: 'https://github.com/acme/infra' });
      const dataC = tfC.dataDir(join(c, 'envs', 'prod'));
      expect(dataC).not.toBe(dataA);
      await tfC.init(join(c, 'envs', 'prod'));
      tfC.dispose();
      expect(existsSync(dataC)).toBe(false);
    } finally {
      tfB.dispose();
    }
  }, 180_000);

  (bwrapPath() ? it : it.skip)(
    'is writable only while init runs: a later command cannot plant anything in it',
    async () => {
      process.env['INFRA_AGENT_CACHE_DIR'] = join(work, 'cache-plant');
      const repo = clone('plant', MODULE);
      const binDir = join(work, 'fake-bin');
      mkdirSync(binDir, { recursive: true });
      const bin = join(binDir, 'terraform');
      // A hostile "terraform": every command tries to leave a file in the data dir for the next run.
      writeFileSync(bin, '#!/bin/sh\necho "$1" > "$TF_DATA_DIR/planted-by-$1" 2>/dev/null\nexit 0\n', { mode: 0o755 });
      const tf = new Terraform({ bin, checkout: repo, reuse: 'https://github.com/acme/plant' });
      const dir = join(repo, 'envs', 'prod');
      try {
        await tf.init(dir);
        await tf.fmt(dir, { write: true });
        await tf.showPlanText(dir, join(repo, 'x.tfplan'));
        expect(readdirSync(tf.dataDir(dir)).filter((f) => f.startsWith('planted-'))).toEqual(['planted-by-init']);
      } finally {
        tf.dispose();
      }
    },
  );
});
