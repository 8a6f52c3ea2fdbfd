// The loop's budgets: turns, total tokens, USD and wall time. `check` is asked before every model call with a
// projection of that call (its input is at least the last call's input, its output at most max_tokens), so a
// budget is a limit that is not crossed, not a line noticed after the fact.
import type { AgentConfig } from '../config/schema.js';
import type { ModelUsage } from '../core/types.js';
import { costUsd, type TokenCounts } from './pricing.js';

export interface AgentBudgets {
  maxTurns: number;
  maxTotalTokens: number;
  maxCostUsd: number;
  maxDurationMs: number;
  /** max_tokens of each model answer. */
  maxTokensPerTurn: number;
}

export function budgetsFromConfig(agent: AgentConfig, overrides: Partial<AgentBudgets> = {}): AgentBudgets {
  return {
    maxTurns: agent.max_turns,
    maxTotalTokens: agent.max_total_tokens,
    maxCostUsd: agent.max_cost_usd,
    maxDurationMs: agent.max_duration_s * 1000,
    maxTokensPerTurn: agent.max_tokens,
    ...overrides,
  };
}

export class UsageMeter {
  readonly usage: ModelUsage = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0,
    turns: 0,
    durationMs: 0,
  };
  /** Input side (uncached + cache read + cache write) of the last call: the next call sends at least this much. */
  lastInputTokens = 0;

  constructor(
    readonly model: string,
    private readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  add(t: TokenCounts): void {
    this.usage.inputTokens += t.inputTokens;
    this.usage.outputTokens += t.outputTokens;
    this.usage.cacheReadTokens += t.cacheReadTokens;
    this.usage.cacheWriteTokens += t.cacheWriteTokens;
    this.usage.costUsd += costUsd(this.model, t);
    this.usage.turns += 1;
    this.lastInputTokens = t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens;
  }

  totalTokens(): number {
    const u = this.usage;
    return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  finish(): ModelUsage {
    this.usage.durationMs = this.elapsedMs();
    this.usage.costUsd = Math.round(this.usage.costUsd * 1e6) / 1e6;
    return { ...this.usage };
  }

  /**
   * Why the next call must not happen, or undefined. `nextInputEstimate` is used before the first call, when there
   * is no previous input to go by.
   */
  check(b: AgentBudgets, nextInputEstimate: number): string | undefined {
    const u = this.usage;
    if (u.turns >= b.maxTurns) return `turn budget: ${b.maxTurns} model turns used`;
    if (this.elapsedMs() >= b.maxDurationMs) return `time budget: ${Math.round(b.maxDurationMs / 1000)} s used`;
    const input = Math.max(this.lastInputTokens, nextInputEstimate);
    const projectedTokens = this.totalTokens() + input + b.maxTokensPerTurn;
    if (projectedTokens > b.maxTotalTokens) {
      return `token budget: ${this.totalTokens()} tokens used; the next turn could pass the limit of ${b.maxTotalTokens}`;
    }
    // Conservative: the whole input priced as uncached input.
    const projectedCost =
      u.costUsd +
      costUsd(this.model, {
        inputTokens: input,
        outputTokens: b.maxTokensPerTurn,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      });
    if (projectedCost > b.maxCostUsd) {
      return `cost budget: $${u.costUsd.toFixed(4)} spent; the next turn could pass the limit of $${b.maxCostUsd}`;
    }
    return undefined;
  }
}
