// Tests use the same on-disk git remote as the offline demo; its code lives in src/devtools/git-remote.ts.
export {
  createGitRemote,
  type GitRemote,
  type GitRemoteOptions,
  gitUrlTemplate,
  HUMAN_IDENTITY,
  identityFor,
} from '../../src/devtools/git-remote.js';
