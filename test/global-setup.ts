// Runs once before the suite: says which tools are present, so a skipped suite is never a surprise.
import { findTool, type ToolName } from '../src/toolchain/tools.js';

export default function setup(): void {
  const names: ToolName[] = ['terraform', 'tfsec', 'checkov', 'opa', 'git'];
  const missing = names.filter((n) => !findTool(n));
  if (missing.length > 0) {
    const msg = `tools missing: ${missing.join(', ')} — run \`npm run bootstrap\``;
    if (process.env['CI']) throw new Error(`${msg}; in CI nothing may be skipped`);
    console.warn(`\n*** ${msg}; suites that need them are SKIPPED ***\n`);
  }
}
