// The real implementations behind the worker's injected interfaces: the agent loop on the Anthropic Messages API
// (key and URL read by the SDK: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL), the checks stage, the policy report.
import { renderPolicyMarkdown } from '../report/policy-markdown.js';
import { runChecks } from '../stages/checks.js';
import type { AgentRunner, Checker, Renderers } from '../stages/deps.js';

export interface ModelEndpoint {
  /** Default: the SDK reads ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL. */
  apiKey?: string;
  authToken?: string;
  baseURL?: string;
}

export function realAgentRunner(endpoint: ModelEndpoint = {}): AgentRunner {
  return async (task) => {
    // The agent and the model's SDK are loaded by the first run that needs them, not at a worker's start.
    const [{ runAgent }, { createModelClient, resolveModel }, { createAgentEnvironment }] = await Promise.all([
      import('../agent/loop.js'),
      import('../agent/model-client.js'),
      import('../agent/real-environment.js'),
    ]);
    const client = createModelClient({
      model: resolveModel(task.config.agent.model),
      maxTokens: task.config.agent.max_tokens,
      ...(endpoint.apiKey ? { apiKey: endpoint.apiKey } : {}),
      ...(endpoint.authToken ? { authToken: endpoint.authToken } : {}),
      ...(endpoint.baseURL ? { baseURL: endpoint.baseURL } : {}),
    });
    const env = createAgentEnvironment({
      repoRoot: task.repoRoot,
      project: task.project,
      config: task.config,
      checks: task.checks,
      ...(task.index ? { index: task.index } : {}),
    });
    try {
      return await runAgent({
        repoRoot: task.repoRoot,
        request: task.request,
        env,
        client,
        agentConfig: task.config.agent,
        projectDir: task.project.dir,
        ...(task.revision ? { revision: task.revision } : {}),
        ...(task.signal ? { signal: task.signal } : {}),
      });
    } finally {
      env.close?.();
    }
  };
}

export const realChecker: Checker = (opts) => runChecks(opts);

export const realRenderers: Renderers = {
  policyMarkdown: (verdict) => renderPolicyMarkdown(verdict, { maxChars: 20_000 }),
};
