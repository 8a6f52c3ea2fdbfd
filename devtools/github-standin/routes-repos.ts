import { listBranches, listCommits, listTree, readTreeEntry, resolveCommit } from '../bare-repo.js';
import { nodeId, repoObject, userObject } from './objects.js';
import { completeComponent } from './openapi.js';
import { commitObject, type Handler, HttpError, keyOf, notFound, paginate, repoOf } from './route-kit.js';
import type { Permission } from './state.js';

export const REPO_HANDLERS: Record<string, Handler> = {
  // --- Repositories ---
  'repos/get': (input) => ({ status: 200, body: repoObject(input.ctx, repoOf(input)) }),
  'repos/get-content': async (input) => {
    const repo = repoOf(input);
    const ref = input.query.get('ref') ?? repo.defaultBranch;
    const path = input.params['path'] ?? '';
    const full = /^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const sha = (await resolveCommit(repo.remotePath, full)) ?? (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(404, `No commit found for the ref ${ref}`);
    const entry = await readTreeEntry(repo.remotePath, sha, path);
    if (!entry) throw notFound();
    const key = keyOf(repo);
    const links = (p: string, type: 'file' | 'dir', blobSha: string) => {
      const api = `${input.ctx.url}/repos/${key}/contents/${p}?ref=${encodeURIComponent(ref)}`;
      const html = `${input.ctx.url}/${key}/${type === 'dir' ? 'tree' : 'blob'}/${encodeURIComponent(ref)}/${p}`;
      const gitUrl = `${input.ctx.url}/repos/${key}/git/${type === 'dir' ? 'trees' : 'blobs'}/${blobSha}`;
      return { url: api, html_url: html, git_url: gitUrl, _links: { self: api, git: gitUrl, html } };
    };
    if (entry.type === 'file') {
      // `Accept: application/vnd.github.raw` (Probot's context.config() asks this way) returns the bytes alone.
      if (/vnd\.github(?:\.v3)?\.raw/.test(input.accept)) {
        return { status: 200, raw: { contentType: 'application/vnd.github.raw; charset=utf-8', data: entry.content } };
      }
      return {
        status: 200,
        body: {
          type: 'file',
          encoding: 'base64',
          size: entry.size,
          name: entry.path.split('/').pop() ?? entry.path,
          path: entry.path,
          // GitHub wraps base64 at 60 columns; clients must cope, so we do too.
          content: `${(entry.content.toString('base64').match(/.{1,60}/g) ?? []).join('\n')}\n`,
          sha: entry.sha,
          download_url: `${input.ctx.url}/raw/${key}/${encodeURIComponent(ref)}/${entry.path}`,
          ...links(entry.path, 'file', entry.sha),
        },
      };
    }
    return {
      status: 200,
      body: entry.entries.map((e) => ({
        type: e.type,
        size: e.size,
        name: e.name,
        path: e.path,
        sha: e.sha,
        download_url: e.type === 'file' ? `${input.ctx.url}/raw/${key}/${encodeURIComponent(ref)}/${e.path}` : null,
        ...links(e.path, e.type, e.sha),
      })),
    };
  },
  'repos/get-collaborator-permission-level': (input) => {
    const repo = repoOf(input);
    const login = input.params['username'] ?? '';
    const role: Permission = input.ctx.state.permissions.get(keyOf(repo))?.get(login) ?? 'none';
    // The legacy `permission` field folds maintain into write and triage into read; role_name keeps the role.
    const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
    const perms = {
      admin: role === 'admin',
      maintain: role === 'admin' || role === 'maintain',
      push: ['admin', 'maintain', 'write'].includes(role),
      triage: ['admin', 'maintain', 'write', 'triage'].includes(role),
      pull: role !== 'none',
    };
    return {
      status: 200,
      body: completeComponent('repository-collaborator-permission', {
        permission,
        role_name: role,
        user: { ...userObject(input.ctx, login), permissions: perms, role_name: role },
      }),
    };
  },
  'repos/list-branches': async (input) => {
    const repo = repoOf(input);
    const branches = await listBranches(repo.remotePath);
    return paginate(
      input,
      [...branches].map(([name, sha]) => ({
        name,
        commit: { sha, url: `${input.ctx.url}/repos/${keyOf(repo)}/commits/${sha}` },
        protected: false,
      })),
    );
  },
  'repos/get-branch': async (input) => {
    const repo = repoOf(input);
    const name = input.params['branch'] ?? '';
    const sha = await resolveCommit(repo.remotePath, `refs/heads/${name}`);
    if (!sha) throw new HttpError(404, 'Branch not found');
    const api = `${input.ctx.url}/repos/${keyOf(repo)}`;
    return {
      status: 200,
      body: completeComponent('branch-with-protection', {
        name,
        commit: completeComponent('commit', {
          sha,
          node_id: nodeId('C', Number.parseInt(sha.slice(0, 8), 16)),
          url: `${api}/commits/${sha}`,
          html_url: `${input.ctx.url}/${keyOf(repo)}/commit/${sha}`,
          comments_url: `${api}/commits/${sha}/comments`,
          commit: {
            url: `${api}/git/commits/${sha}`,
            message: '',
            comment_count: 0,
            tree: { sha, url: `${api}/git/trees/${sha}` },
            author: null,
            committer: null,
          },
          author: null,
          committer: null,
          parents: [],
        }),
        _links: { html: `${input.ctx.url}/${keyOf(repo)}/tree/${name}`, self: `${api}/branches/${name}` },
        protected: false,
        protection: { enabled: false },
        protection_url: `${api}/branches/${name}/protection`,
      }),
    };
  },
  'git/get-ref': async (input) => {
    const repo = repoOf(input);
    const ref = (input.params['ref'] ?? '').replace(/^refs\//, '');
    const sha = await resolveCommit(repo.remotePath, `refs/${ref}`);
    if (!sha) throw notFound();
    const api = `${input.ctx.url}/repos/${keyOf(repo)}`;
    return {
      status: 200,
      body: {
        ref: `refs/${ref}`,
        node_id: nodeId('REF', Number.parseInt(sha.slice(0, 8), 16)),
        url: `${api}/git/refs/${ref}`,
        object: { type: 'commit', sha, url: `${api}/git/commits/${sha}` },
      },
    };
  },

  'git/get-tree': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['tree_sha'] ?? '';
    const full = /^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const listed = await listTree(repo.remotePath, full);
    if (!listed) throw notFound();
    const recursive = input.query.get('recursive') !== null;
    const api = `${input.ctx.url}/repos/${keyOf(repo)}/git`;
    const entries = recursive ? listed.entries : listed.entries.filter((e) => !e.path.includes('/'));
    return {
      status: 200,
      body: completeComponent('git-tree', {
        sha: listed.tree,
        url: `${api}/trees/${listed.tree}`,
        truncated: false,
        tree: entries.map((e) => ({
          path: e.path,
          mode: e.mode,
          type: e.type,
          sha: e.sha,
          ...(e.type === 'blob' ? { size: e.size } : {}),
          url: `${api}/${e.type === 'blob' ? 'blobs' : 'trees'}/${e.sha}`,
        })),
      }),
    };
  },

  'repos/get-commit': async (input) => {
    const repo = repoOf(input);
    const ref = input.params['ref'] ?? '';
    const sha =
      (await resolveCommit(repo.remotePath, `refs/heads/${ref}`)) ?? (await resolveCommit(repo.remotePath, ref));
    if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`);
    const [c] = await listCommits(repo.remotePath, undefined, sha);
    if (!c) throw notFound();
    return { status: 200, body: commitObject(input, repo, c) };
  },
};
