// Generates schema/infra-agent.schema.json from the zod schema (the single source of truth), so editors can validate
// `.github/infra-agent.yml`. Run: `npx tsx src/config/json-schema.ts`. test/config/json-schema.test.ts fails when
// the committed file differs from what this produces.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { projectRoot } from '../toolchain/tools.js';
import { RepoConfigSchema } from './schema.js';

export const JSON_SCHEMA_PATH = 'schema/infra-agent.schema.json';

export function generateJsonSchema(): Record<string, unknown> {
  // "input": what users may write (defaults make keys optional), not what the parser returns.
  const schema = z.toJSONSchema(RepoConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    ...schema,
    $id: 'https://github.com/infra-agent/infra-agent/schema/infra-agent.schema.json',
    title: '.github/infra-agent.yml',
    description: 'Configuration of the infra-agent GitHub App for one repository (read from the default branch).',
  };
}

export function renderJsonSchema(): string {
  return `${JSON.stringify(generateJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(projectRoot(), JSON_SCHEMA_PATH);
  writeFileSync(out, renderJsonSchema());
  process.stdout.write(`wrote ${out}\n`);
}
