// `infra-agent serve [--role web|worker|all] [--port N] [--host H]`: run the GitHub App. Configuration comes from the
// environment (Probot's names where they exist); see README "Configuration reference". Holds no logic: it reads the
// environment and starts src/server/server.ts.
import { parseArgs } from 'node:util';
import type { Role } from '../queue/runtime.js';
import { STATE_DIRS_ENV } from '../sandbox/policy.js';
import { takeAppSecrets } from '../sandbox/secrets.js';
import { UNSANDBOXED_ENV } from '../sandbox/status.js';
import { startAppServer } from '../server/server.js';

const usage = (defaultGitUrl: string) => `usage: infra-agent serve [--role web|worker|all] [--port N] [--host H]

environment:
  APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH), WEBHOOK_SECRET   the GitHub App (required)
  ANTHROPIC_API_KEY                                           the model (required for workers)
  GITHUB_API_URL                                              API base URL for GitHub Enterprise Server
  DATABASE_URL                                                PostgreSQL (default: embedded store in INFRA_AGENT_DATA_DIR)
  INFRA_AGENT_DATA_DIR, INFRA_AGENT_PLAN_KEY                  embedded data dir; 32-byte key for saved plans
  INFRA_AGENT_GIT_URL_TEMPLATE                                default ${defaultGitUrl}
  INFRA_AGENT_GIT_AUTHOR_NAME, INFRA_AGENT_GIT_AUTHOR_EMAIL   author of the app's commits
  INFRA_AGENT_WORKER_CONCURRENCY                              jobs at once per worker (default 2)
  PORT, HOST                                                  default 3000, 0.0.0.0
  ${UNSANDBOXED_ENV}=1                                   run tools WITHOUT the sandbox (every report says so)
  ${STATE_DIRS_ENV}                              dirs (:-separated) terraform may use for local state

The secrets above are read once at start and removed from the process environment.
`;

/** The usage text; the pipeline's default git URL is loaded only when it is shown. */
async function usageText(): Promise<string> {
  return usage((await import('../stages/workspace.js')).DEFAULT_GIT_URL_TEMPLATE);
}

async function required(name: string): Promise<string> {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set\n\n${await usageText()}`);
  return v;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: 'string', default: 'all' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(await usageText());
    return 0;
  }
  const role = values.role;
  if (role !== 'web' && role !== 'worker' && role !== 'all') {
    process.stderr.write(`infra-agent serve: --role must be web, worker or all\n\n${await usageText()}`);
    return 2;
  }
  // Read once, then gone from process.env: nothing the App starts (or reads /proc for) finds them there.
  const secrets = takeAppSecrets();
  const privateKey = secrets.privateKey ?? (await required('PRIVATE_KEY'));
  const webhookSecret = secrets.webhookSecret ?? (await required('WEBHOOK_SECRET'));
  if ((role as Role) !== 'web' && !secrets.anthropicApiKey && !secrets.anthropicAuthToken) {
    throw new Error(`ANTHROPIC_API_KEY is not set (workers call the model)\n\n${await usageText()}`);
  }
  const port = Number(values.port ?? process.env['PORT'] ?? 3000);
  const concurrency = Number(process.env['INFRA_AGENT_WORKER_CONCURRENCY'] ?? 2);
  const server = await startAppServer({
    appId: await required('APP_ID'),
    privateKey,
    webhookSecret,
    ...(secrets.databaseUrl ? { databaseUrl: secrets.databaseUrl } : {}),
    ...(secrets.planKey ? { planKey: secrets.planKey } : {}),
    // The agent (and the model's SDK) only in a process that runs jobs.
    ...(role !== 'web'
      ? {
          agent: (await import('../pipeline/wiring.js')).realAgentRunner({
            ...(secrets.anthropicApiKey ? { apiKey: secrets.anthropicApiKey } : {}),
            ...(secrets.anthropicAuthToken ? { authToken: secrets.anthropicAuthToken } : {}),
            ...(process.env['ANTHROPIC_BASE_URL'] ? { baseURL: process.env['ANTHROPIC_BASE_URL'] } : {}),
          }),
        }
      : {}),
    role,
    port,
    ...((values.host ?? process.env['HOST']) ? { host: values.host ?? process.env['HOST'] ?? '0.0.0.0' } : {}),
    ...(process.env['GITHUB_API_URL'] ? { githubApiUrl: process.env['GITHUB_API_URL'] } : {}),
    ...(process.env['INFRA_AGENT_GIT_URL_TEMPLATE']
      ? { gitUrlTemplate: process.env['INFRA_AGENT_GIT_URL_TEMPLATE'] }
      : {}),
    ...(process.env['INFRA_AGENT_GIT_AUTHOR_EMAIL']
      ? {
          author: {
            name: process.env['INFRA_AGENT_GIT_AUTHOR_NAME'] ?? 'infra-agent',
            email: process.env['INFRA_AGENT_GIT_AUTHOR_EMAIL'],
          },
        }
      : {}),
    concurrency: Number.isInteger(concurrency) && concurrency > 0 ? concurrency : 2,
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}
