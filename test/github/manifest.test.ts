// app.yml (the manifest GitHub registers the App from) and src/intake/app.ts must agree: every event a handler is registered
// for is delivered, and nothing else is asked for. The stand-in grants what the manifest asks, so the e2e tests run
// with exactly these permissions.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEFAULT_APP_PERMISSIONS } from '../../devtools/github-standin/server.js';
import { SUBSCRIBED_EVENTS } from '../../src/intake/app.js';
import { projectRoot } from '../../src/toolchain/tools.js';

const Manifest = z.object({
  default_events: z.array(z.string()),
  default_permissions: z.record(z.string(), z.string()),
});

it('app.yml subscribes to exactly the events src/intake/app.ts handles, and asks for the permissions the stand-in grants', async () => {
  const manifest = Manifest.parse(parse(await readFile(join(projectRoot(), 'app.yml'), 'utf8')));
  expect([...manifest.default_events].sort()).toEqual([...SUBSCRIBED_EVENTS].sort());
  expect(manifest.default_events).toContain('pull_request_review');
  expect(manifest.default_permissions).toEqual(DEFAULT_APP_PERMISSIONS);
});
