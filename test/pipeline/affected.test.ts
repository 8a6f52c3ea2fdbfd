import { describe, expect, it } from 'vitest';
import { repoGlob } from '../../src/config/projects-check.js';
import type { Project } from '../../src/core/types.js';
import { affectedProjects, localModuleDir, localModulesOf } from '../../src/pipeline/affected.js';

const p = (name: string, dir = name): Project => ({ name, dir, workspace: 'default', dependsOn: [] });

describe('affected projects', () => {
  const projects = [p('app'), p('db'), p('root', '.'), p('docs-site')];
  const modules = [
    { dir: 'app', source: '../modules/web' },
    { dir: 'modules/web', source: '../shared' },
    { dir: 'db', source: '../modules/shared' },
    { dir: 'app', source: 'terraform-aws-modules/vpc/aws' },
  ];
  const names = (files: string[], whenModified = new Map<string, string[]>()) =>
    affectedProjects({ projects, whenModified, changedFiles: files, modules }).map((a) => a.project.name);

  it('a Terraform file in the project dir itself', () => {
    expect(names(['app/main.tf'])).toEqual(['app']);
    expect(names(['app/terraform.tfvars', 'db/.terraform.lock.hcl'])).toEqual(['app', 'db']);
    expect(names(['main.tf'])).toEqual(['root']);
  });

  it('not a Terraform file, nor one in a subdir that is no module', () => {
    expect(names(['app/README.md', 'app/scripts/x.tf', 'other/main.tf'])).toEqual([]);
  });

  it('a local module called directly or through another module', () => {
    expect(names(['modules/shared/main.tf'])).toEqual(['app', 'db']);
    expect(names(['modules/web/variables.tf'])).toEqual(['app']);
  });

  it('when_modified globs, relative to the project dir, with exclusions', () => {
    const wm = new Map([['docs-site', ['../docs/**/*.md', '!../docs/drafts/**']]]);
    expect(names(['docs/guide/a.md'], wm)).toEqual(['docs-site']);
    expect(names(['docs/a.md'], wm)).toEqual(['docs-site']);
    expect(names(['docs/drafts/a.md'], wm)).toEqual([]);
  });

  it('resolves local sources and refuses ones that leave the repository', () => {
    expect(localModuleDir('app', '../modules/x')).toBe('modules/x');
    expect(localModuleDir('.', './modules/x/')).toBe('modules/x');
    expect(localModuleDir('app', '../../x')).toBeUndefined();
    expect(localModuleDir('app', 'git::https://x')).toBeUndefined();
    expect(repoGlob('app', '../../*.tf')).toBeUndefined();
    expect(repoGlob('app', '!../shared/*.tf')).toEqual({ pattern: 'shared/*.tf', negate: true });
  });

  it('module cycles end', () => {
    const cyc = [
      { dir: 'a', source: '../b' },
      { dir: 'b', source: '../a' },
    ];
    expect([...localModulesOf('a', cyc)]).toEqual(['b']);
  });
});
