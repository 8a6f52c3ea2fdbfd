// Runs once before the suite: says which tools are present, so a skipped suite is never a surprise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, type ToolName } from '../src/toolchain/tools.js';

export default function setup(): () => void {
  // The App's cache dir (warm tool files, shared provider cache, reused .terraform dirs) is the suite's own: tests
  // neither read what a developer's runs left in ~/.cache/infra-agent nor leave anything there.
  const cache = mkdtempSync(join(tmpdir(), 'infra-agent-test-cache-'));
  process.env['INFRA_AGENT_CACHE_DIR'] ??= cache;
  const names: ToolName[] = ['terraform', 'tfsec', 'checkov', 'opa', 'git'];
  const missing = names.filter((n) => !findTool(n));
  if (missing.length > 0) {
    const msg = `tools missing: ${missing.join(', ')} — run \`npm run bootstrap\``;
    if (process.env['CI']) throw new Error(`${msg}; in CI nothing may be skipped`);
    console.warn(`\n*** ${msg}; suites that need them are SKIPPED ***\n`);
  }
  return () => rmSync(cache, { recursive: true, force: true });
}
