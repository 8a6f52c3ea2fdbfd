// The App's own operations: who it is, its installations, installation tokens, team memberships.
// Handlers keyed by the operationId of GitHub's REST description (see routes.ts).
import { z } from 'zod';
import { deliverToHook } from './hook-deliveries.js';
import { appObject, ensureUser, installationObject, repoObject } from './objects.js';
import { completeComponent } from './openapi.js';
import { permits } from './permissions.js';
import { type Handler, HttpError, notFound, num, paginate, parse, repoOf } from './route-kit.js';

export const APP_HANDLERS: Record<string, Handler> = {
  // --- App authentication (JWT) ---
  'apps/get-authenticated': ({ ctx }) => ({ status: 200, body: appObject(ctx) }),
  'apps/list-installations': (input) =>
    paginate(
      input,
      input.ctx.state.installations.map((i) => installationObject(input.ctx, i)),
    ),
  'apps/get-installation': (input) => {
    const inst = input.ctx.state.installations.find((i) => i.id === num(input, 'installation_id'));
    if (!inst) throw notFound();
    return { status: 200, body: installationObject(input.ctx, inst) };
  },
  'apps/get-repo-installation': (input) => {
    const repo = repoOf(input);
    const inst = input.ctx.state.installations.find((i) => i.id === repo.installationId);
    if (!inst) throw notFound();
    return { status: 200, body: installationObject(input.ctx, inst) };
  },
  'apps/create-installation-access-token': (input) => {
    const inst = input.ctx.state.installations.find((i) => i.id === num(input, 'installation_id'));
    if (!inst) throw notFound();
    const b = parse(z.object({ permissions: z.record(z.string(), z.string()).optional() }).loose(), input.body);
    const permissions = b.permissions ?? inst.permissions;
    for (const [name, level] of Object.entries(permissions)) {
      if (!permits(inst.permissions, [[name, level]]))
        throw new HttpError(422, `The permissions requested are not granted to this installation.`, [], 'auth');
    }
    const issued = input.issueToken(inst.id, permissions);
    const repos = input.ctx.state.repos.filter((r) => r.installationId === inst.id);
    return {
      status: 201,
      body: completeComponent('installation-token', {
        token: issued.token,
        expires_at: issued.expiresAt,
        permissions,
        repository_selection: 'selected',
        repositories: repos.map((r) => repoObject(input.ctx, r, 'repository')),
      }),
    };
  },

  'apps/list-repos-accessible-to-installation': (input) => {
    if (input.auth.kind !== 'installation') throw new HttpError(403, 'requires an installation token', [], 'auth');
    const id = input.auth.installationId;
    const repos = input.ctx.state.repos.filter((r) => r.installationId === id);
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(input.query.get('page') ?? 1) || 1);
    const slice = repos.slice((page - 1) * perPage, page * perPage);
    return {
      status: 200,
      body: {
        total_count: repos.length,
        repository_selection: 'selected',
        repositories: slice.map((r) => repoObject(input.ctx, r, 'repository')),
      },
    };
  },
  // --- The App's webhook deliveries (JWT) ---
  'apps/list-webhook-deliveries': (input) => {
    const perPage = Math.min(100, Math.max(1, Number(input.query.get('per_page') ?? 30) || 30));
    const cursor = Number(input.query.get('cursor') ?? Number.POSITIVE_INFINITY);
    const wanted = input.query.get('status');
    const all = [...input.ctx.state.hookDeliveries]
      .reverse()
      .filter((d) => d.id <= cursor)
      .filter((d) =>
        wanted === 'success'
          ? d.statusCode >= 200 && d.statusCode < 400
          : wanted === 'failure'
            ? d.statusCode >= 400
            : true,
      );
    const page = all.slice(0, perPage);
    const next = all[perPage];
    const headers: Record<string, string> = {};
    if (next) {
      const u = new URL(input.requestUrl);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('cursor', String(next.id));
      headers['link'] = `<${u.href}>; rel="next"`;
    }
    return {
      status: 200,
      headers,
      body: page.map((d) => ({
        id: d.id,
        guid: d.guid,
        delivered_at: d.deliveredAt,
        redelivery: d.redelivery,
        duration: d.duration,
        status: d.status,
        status_code: d.statusCode,
        event: d.event,
        action: d.action,
        installation_id: d.installationId,
        repository_id: d.repositoryId,
        throttled_at: null,
      })),
    };
  },
  'apps/redeliver-webhook-delivery': async (input) => {
    const id = num(input, 'delivery_id');
    const d = input.ctx.state.hookDeliveries.find((x) => x.id === id);
    if (!d) throw notFound();
    await deliverToHook(input.ctx.state, input.nextId, {
      event: d.event,
      rawBody: d.rawBody,
      guid: d.guid,
      redelivery: true,
      appId: input.ctx.app.id,
    });
    return { status: 202, body: {} };
  },

  // --- Teams ---
  'teams/get-membership-for-user-in-org': (input) => {
    const { org = '', team_slug: team = '', username = '' } = input.params;
    const m = input.ctx.state.teamMemberships.find(
      (x) => x.org.toLowerCase() === org.toLowerCase() && x.team === team && x.user === username,
    );
    if (!m) throw notFound();
    ensureUser(input.ctx.state, username);
    return {
      status: 200,
      body: {
        url: `${input.ctx.url}/orgs/${org}/teams/${team}/memberships/${username}`,
        role: m.role,
        state: m.state,
      },
    };
  },
};
