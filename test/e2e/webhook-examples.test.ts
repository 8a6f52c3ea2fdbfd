// Every example delivery GitHub documents (@octokit/webhooks-examples: 700+ real payloads of every event), sent to
// the real server with a valid signature: none may get a 5xx (a 500 makes GitHub redeliver something that can never
// succeed, and used to come from a handler's schema error on payloads without an `installation`), and the server
// stays healthy afterwards. Events the App cannot use are acknowledged and dropped.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { toJsonObject } from '../../devtools/json.js';
import { type AppWorld, startAppWorld } from '../helpers/app-world.js';
import { describeWithTools } from '../helpers/tools.js';

const Definitions = z.array(
  z.object({ name: z.string(), examples: z.array(z.record(z.string(), z.unknown())).default([]) }),
);

/** Every example of every flavour (github.com and each GHES version the package records). */
function examples(): Array<{ event: string; payload: Record<string, unknown> }> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@octokit/webhooks-examples/package.json'));
  const flavours = readdirSync(root).filter((d) => existsSync(join(root, d, 'index.json')));
  return flavours.flatMap((f) =>
    Definitions.parse(require(join(root, f, 'index.json'))).flatMap((d) =>
      d.examples.map((payload) => ({ event: d.name, payload })),
    ),
  );
}

describeWithTools(['git'], 'replaying every @octokit/webhooks-examples payload', () => {
  let world: AppWorld | undefined;

  beforeAll(async () => {
    world = await startAppWorld({
      files: { 'main.tf': 'resource "terraform_data" "x" {\n  input = "x"\n}\n' },
      permissions: {},
      // The worker's side of what is accepted (intake jobs for installations the stand-in does not know) is not
      // under test: one attempt, no retries.
      faults: { queue: { maxAttempts: 1, retryDelaySeconds: 1, pollIntervalSeconds: 0.5 } },
    });
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('answers no delivery with a 5xx and stays healthy', async () => {
    if (!world) throw new Error('no world');
    const all = examples();
    expect(all.length).toBeGreaterThan(700);
    const serverErrors: string[] = [];
    const statuses = new Map<number, number>();
    for (const { event, payload } of all) {
      const res = await world.sender.send(event, toJsonObject(payload, `${event} example`));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500)
        serverErrors.push(`${event}.${String(payload['action'] ?? '')}: ${res.status} ${res.body}`);
    }
    expect(serverErrors).toEqual([]);
    // Something was accepted (not everything refused with a 4xx).
    expect(statuses.get(200) ?? 0).toBeGreaterThan(600);
    const health = await fetch(`${world.server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
  });
});
