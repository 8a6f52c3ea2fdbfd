// Tests use the same on-disk git remote as the offline demo; its code lives in devtools/git-remote.ts.
export {
  createGitRemote,
  type GitRemote,
  type GitRemoteOptions,
  gitUrlTemplate,
  HUMAN_IDENTITY,
  identityFor,
} from '../../devtools/git-remote.js';
