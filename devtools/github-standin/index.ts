// The offline GitHub: server, state types, the OpenAPI referee and webhook payloads built from stand-in state.

export {
  matchRoute,
  preloadSpec,
  validateComponent,
  validateRequest,
  validateResponse,
  validateWebhookPayload,
} from './openapi.js';
export { type StandinWebhooks, standinWebhooks, type Webhook } from './payloads.js';
export { MAX_BODY_CHARS } from './routes.js';
export {
  DEFAULT_APP_EVENTS,
  DEFAULT_APP_PERMISSIONS,
  type GitHubStandin,
  generateAppKeyPair,
  type StandinOptions,
  startGitHubStandin,
} from './server.js';
export type * from './state.js';
