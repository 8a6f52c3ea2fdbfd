import { describe, expect, it } from 'vitest';
import { checkProjects, findDependencyCycle } from '../../src/config/projects-check.js';
import { RepoConfigSchema } from '../../src/config/schema.js';

const tree = {
  files: ['app/main.tf', 'db/main.tf', 'docs/guide.md', 'README.md'],
  dirs: new Set(['app', 'db', 'docs']),
  complete: true,
};
const check = (projects: unknown[], t = tree) => checkProjects(RepoConfigSchema.parse({ projects }), t);

describe('projects against the branch', () => {
  it('a valid config has no problem', () => {
    expect(
      check([
        { name: 'app', dir: 'app', depends_on: ['db'], when_modified: ['../docs/**/*.md', '!../docs/x/**'] },
        { name: 'db', dir: 'db/' },
        { name: 'root', dir: '.' },
      ]),
    ).toEqual([]);
  });

  it('a missing dir, a file as dir, a twin, an unknown dependency, a glob outside or matching nothing', () => {
    expect(
      check([
        { name: 'app', dir: 'apps', depends_on: ['dbb'] },
        { name: 'readme', dir: 'README.md' },
        { name: 'db', dir: 'db', when_modified: ['*.md', '../../x/*.tf'] },
        { name: 'db', dir: 'app' },
      ]),
    ).toEqual([
      'projects[0].dir: "apps" does not exist on this branch',
      'projects[0].depends_on[0]: no project is named "dbb" (names: app, readme, db, db)',
      'projects[1].dir: "README.md" is a file, not a directory',
      'projects[2].when_modified[0]: "*.md" matches no file on this branch (it is relative to the project dir "db")',
      'projects[2].when_modified[1]: "../../x/*.tf" points outside the repository',
      'projects[3].name: "db" (workspace default) is already projects[2]; give one a distinct name',
    ]);
  });

  it('a depends_on cycle is spelled out with its key path', () => {
    expect(
      check([
        { name: 'a', dir: 'app', depends_on: ['b'] },
        { name: 'b', dir: 'db', depends_on: ['c'] },
        { name: 'c', dir: 'docs', depends_on: ['a'] },
      ]),
    ).toEqual(['projects[0].depends_on: a cycle: a → b → c → a; one of them must not depend on the other']);
    expect(findDependencyCycle([{ name: 'x', dependsOn: ['x'] }])).toEqual(['x', 'x']);
    expect(
      findDependencyCycle([
        { name: 'x', dependsOn: ['y'] },
        { name: 'y', dependsOn: [] },
      ]),
    ).toBeUndefined();
  });

  it('a cut listing claims no "matches nothing"', () => {
    expect(check([{ name: 'db', dir: 'db', when_modified: ['*.md'] }], { ...tree, complete: false })).toEqual([]);
  });
});
