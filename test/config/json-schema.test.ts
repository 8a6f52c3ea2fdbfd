import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { JSON_SCHEMA_PATH, renderJsonSchema } from '../../src/config/json-schema.js';
import { projectRoot } from '../../src/toolchain/tools.js';

describe('the committed JSON Schema', () => {
  it('equals the one generated from the zod schema (run `npx tsx src/config/json-schema.ts`)', () => {
    const committed = readFileSync(join(projectRoot(), JSON_SCHEMA_PATH), 'utf8');
    expect(committed).toBe(renderJsonSchema());
  });

  it('accepts the example config and rejects a bad merge method, like the zod schema', () => {
    const ajv = new Ajv2020.default({ strict: false });
    const validate = ajv.compile(JSON.parse(renderJsonSchema()));
    const example = parseYaml(readFileSync(join(projectRoot(), 'examples', 'infra-agent.yml'), 'utf8'));
    expect(validate(example)).toBe(true);
    expect(validate({ apply: { merge_method: 'fast-forward' } })).toBe(false);
    expect(validate({ unknown_key: true })).toBe(false);
  });
});
