// Tests that need a real tool use these. A missing tool skips the suite loudly on a developer machine and fails it
// in CI (CI=true), where scripts/setup-tools.sh must have installed everything: in CI nothing may be skipped.
import { describe, it } from 'vitest';
import { findTool, type ToolName } from '../../src/toolchain/tools.js';

export function missingTools(names: ToolName[]): ToolName[] {
  return names.filter((n) => !findTool(n));
}

export function describeWithTools(names: ToolName[], title: string, body: () => void): void {
  const missing = missingTools(names);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const why = `needs ${missing.join(', ')} (run \`npm run bootstrap\`)`;
  if (process.env['CI']) {
    describe(title, () => {
      it(`has its tools: ${why}`, () => {
        throw new Error(`${title}: ${why}; in CI nothing may be skipped`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${title}": ${why} ***\n`);
  describe.skip(`${title} [SKIPPED: ${why}]`, body);
}
