// Project locks on the real store (embedded PGlite): all-or-none taking, re-entrancy, the holder named to a second
// PR, waiting lists handed back on release, /infra unlock permission, release on merge/close, and the handler glue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlePullRequestClosed, handleUnlockCommand, lockProjectsForPlan } from '../../src/apply/handlers.js';
import { listWaiters, releasePullRequestLocks, takeProjectLocks, unlockCommand } from '../../src/apply/locks.js';
import { createStore } from '../../src/store/create-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { FakePort } from './fake-port.js';

let store: SqlStore;
let n = 0;
/** A fresh repo name per test: one database for the file, no test sees another's locks. */
const repo = () => `acme/locks-${++n}`;

beforeAll(async () => {
  store = await createStore({ dataDir: 'memory://' });
});
afterAll(async () => {
  await store.close();
});

const net = { name: 'network', workspace: 'default' };
const app = { name: 'app', workspace: 'prod' };

describe('project locks', () => {
  it('a PR takes every lock it plans, re-entrantly', async () => {
    const r = repo();
    const first = await takeProjectLocks(store, { repo: r, pr: 1, runId: 'a', projects: [net, app] });
    expect(first.ok).toBe(true);
    const again = await takeProjectLocks(store, { repo: r, pr: 1, runId: 'b', projects: [net, app] });
    expect(again.ok).toBe(true);
    expect((await store.listLocks({ repo: r })).map((l) => [l.project, l.workspace, l.holder.pr]).sort()).toEqual([
      ['app', 'prod', 1],
      ['network', 'default', 1],
    ]);
    expect((await store.listAudit({ repo: r, action: 'lock.acquired' })).length).toBe(2);
  });

  it('a second PR is told which PR holds the lock, takes none (all or none), and waits', async () => {
    const r = repo();
    await takeProjectLocks(store, { repo: r, pr: 1, runId: 'a', projects: [net] });
    const second = await takeProjectLocks(store, { repo: r, pr: 2, runId: 'b', projects: [app, net] });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.blocked.map((b) => [b.project, b.lock.holder.pr])).toEqual([['network', 1]]);
    // `app` was free but is given back: PR 2 holds nothing while it waits.
    expect(await store.listLocks({ repo: r, pr: 2 })).toEqual([]);
    expect((await listWaiters(store, { repo: r, project: 'network', workspace: 'default' })).map((w) => w.pr)).toEqual([
      2,
    ]);
    // Waiting twice does not queue twice.
    await takeProjectLocks(store, { repo: r, pr: 2, runId: 'c', projects: [net] });
    expect((await listWaiters(store, { repo: r, project: 'network', workspace: 'default' })).length).toBe(1);
  });

  it('releasing on merge hands back the waiting PRs once and empties the list', async () => {
    const r = repo();
    await takeProjectLocks(store, { repo: r, pr: 1, runId: 'a', projects: [net, app] });
    await takeProjectLocks(store, { repo: r, pr: 2, runId: 'b', projects: [net] });
    await takeProjectLocks(store, { repo: r, pr: 3, runId: 'c', projects: [net, app] });
    const released = await releasePullRequestLocks(store, { repo: r, pr: 1, actor: 'alice', reason: 'merged' });
    expect(released.released.map((l) => l.project).sort()).toEqual(['app', 'network']);
    expect(released.waiters.map((w) => w.pr).sort()).toEqual([2, 3]);
    expect(await store.listLocks({ repo: r })).toEqual([]);
    expect(await listWaiters(store, { repo: r, project: 'network', workspace: 'default' })).toEqual([]);
    const audit = await store.listAudit({ repo: r, action: 'lock.released' });
    expect(audit.map((a) => a.details['reason'])).toEqual(['merged', 'merged']);
    // Now PR 2 can take it.
    expect((await takeProjectLocks(store, { repo: r, pr: 2, runId: 'd', projects: [net] })).ok).toBe(true);
  });

  it('/infra unlock needs write permission and releases only this PR`s locks', async () => {
    const r = repo();
    await takeProjectLocks(store, { repo: r, pr: 1, runId: 'a', projects: [net] });
    await takeProjectLocks(store, { repo: r, pr: 2, runId: 'b', projects: [app] });
    const denied = await unlockCommand(store, { repo: r, pr: 1, actor: 'eve', permission: 'triage' });
    expect(denied).toEqual({
      ok: false,
      reason: 'permission',
      message: '@eve needs write permission to release a lock (has triage)',
    });
    expect((await store.listLocks({ repo: r })).length).toBe(2);
    const done = await unlockCommand(store, { repo: r, pr: 1, actor: 'alice', permission: 'maintain' });
    expect(done.ok).toBe(true);
    expect((await store.listLocks({ repo: r })).map((l) => l.holder.pr)).toEqual([2]);
    const none = await unlockCommand(store, {
      repo: r,
      pr: 1,
      actor: 'alice',
      permission: 'write',
      project: 'network',
    });
    expect(none).toMatchObject({ ok: false, reason: 'nothing-held', message: '#1 holds no lock on `network`' });
  });
});

describe('lock handler glue', () => {
  it('a blocked plan gets the holder in a comment; closing the holder queues the waiter to plan', async () => {
    const port = new FakePort(repo());
    const planned: { pr: number; reason: string }[] = [];
    const requestPlan = async (req: { pr: number; reason: string }) => {
      planned.push(req);
    };
    expect(await lockProjectsForPlan({ store, port }, { pr: 1, runId: 'a', projects: [net] })).toBe(true);
    expect(await lockProjectsForPlan({ store, port }, { pr: 2, runId: 'b', projects: [net] })).toBe(false);
    expect(port.bodies(2)[0]).toContain('`network` is locked by #1 since');
    expect(port.bodies(2)[0]).toContain('it is planned again as soon as the lock frees');

    await handlePullRequestClosed({ store, repo: port.repo, requestPlan }, { pr: 1, merged: false, actor: 'alice' });
    expect(planned).toEqual([{ pr: 2, reason: 'lock on network/default freed: #1 was closed' }]);
    expect(await store.listLocks({ repo: port.repo })).toEqual([]);
  });

  it('/infra unlock by a reader is refused in the thread; by a writer it releases and re-plans the waiter', async () => {
    const port = new FakePort(repo());
    port.permissions.set('eve', 'read');
    port.permissions.set('alice', 'write');
    const planned: number[] = [];
    const requestPlan = async (req: { pr: number }) => {
      planned.push(req.pr);
    };
    await lockProjectsForPlan({ store, port }, { pr: 1, runId: 'a', projects: [net] });
    await lockProjectsForPlan({ store, port }, { pr: 2, runId: 'b', projects: [net] });
    expect((await handleUnlockCommand({ store, port, requestPlan }, { pr: 1, login: 'eve' })).ok).toBe(false);
    expect(port.bodies(1).at(-1)).toBe(
      '@eve nothing was unlocked: @eve needs write permission to release a lock (has read).',
    );
    expect(planned).toEqual([]);
    expect((await handleUnlockCommand({ store, port, requestPlan }, { pr: 1, login: 'alice' })).ok).toBe(true);
    expect(port.bodies(1).at(-1)).toContain('@alice released `network`.');
    expect(port.bodies(1).at(-1)).toContain('Now planning: #2.');
    expect(planned).toEqual([2]);
  });
});
