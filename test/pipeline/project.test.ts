import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/load.js';
import { defaultRepoConfig } from '../../src/config/schema.js';
import { candidateProjects, chooseProject } from '../../src/stages/project.js';

describe('choosing the project', () => {
  const detected = candidateProjects(defaultRepoConfig(), ['infra/network', 'infra/app']);

  it('says there is no Terraform when nothing was found', () => {
    expect(chooseProject(candidateProjects(defaultRepoConfig(), []), {})).toEqual({ kind: 'none' });
  });

  it('takes the only one', () => {
    const one = candidateProjects(defaultRepoConfig(), ['.']);
    expect(chooseProject(one, { requestText: 'anything' })).toMatchObject({ kind: 'one', project: { dir: '.' } });
  });

  it('asks when several exist and the request names none', () => {
    expect(chooseProject(detected, { requestText: 'add a bucket' })).toMatchObject({ kind: 'ambiguous' });
  });

  it('takes the one the request mentions, by dir', () => {
    expect(chooseProject(detected, { requestText: 'Add a subnet in `infra/network` please' })).toMatchObject({
      kind: 'one',
      project: { dir: 'infra/network' },
    });
  });

  it('still asks when the request mentions two', () => {
    expect(chooseProject(detected, { requestText: 'infra/network and infra/app' })).toMatchObject({
      kind: 'ambiguous',
    });
  });

  it('uses configured names and an explicit /infra plan <name>', () => {
    const r = parseRepoConfig('projects:\n  - name: net\n    dir: infra/network\n  - name: app\n    dir: infra/app\n');
    if (!r.ok) throw new Error(r.message);
    const configured = candidateProjects(r.config, ['ignored']);
    expect(configured.map((p) => p.name)).toEqual(['net', 'app']);
    expect(chooseProject(configured, { named: 'app' })).toMatchObject({ kind: 'one', project: { dir: 'infra/app' } });
    expect(chooseProject(configured, { named: 'nope' })).toMatchObject({ kind: 'unknown', name: 'nope' });
    expect(chooseProject(configured, { requestText: 'change the net project' })).toMatchObject({
      kind: 'one',
      project: { name: 'net' },
    });
  });
});
