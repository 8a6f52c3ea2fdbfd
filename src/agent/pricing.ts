// What a model call costs, so the loop can stop on a USD budget. Prices are USD per million tokens, from Anthropic's
// published price list (5-minute cache writes). A model missing from the table is charged at the most expensive
// row: a budget must never be under-counted because someone configured a newer model.
import type { ModelUsage } from '../core/types.js';

export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const SONNET_5: ModelPrice = { input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 };
const SONNET_4: ModelPrice = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
const OPUS_4_5_PLUS: ModelPrice = { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 };
const HAIKU_4_5: ModelPrice = { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 };
const TOP_TIER: ModelPrice = { input: 10, output: 50, cacheWrite: 12.5, cacheRead: 1 };

/** Longest prefix wins, so dated ids (claude-sonnet-4-5-20250929) price like their alias. */
export const PRICE_TABLE: Record<string, ModelPrice> = {
  'claude-sonnet-5-5': SONNET_5,
  'claude-sonnet-5': SONNET_5,
  'claude-sonnet-4-6': SONNET_4,
  'claude-sonnet-4-5': SONNET_4,
  'claude-opus-5': OPUS_4_5_PLUS,
  'claude-opus-4-8': OPUS_4_5_PLUS,
  'claude-opus-4-7': OPUS_4_5_PLUS,
  'claude-opus-4-6': OPUS_4_5_PLUS,
  'claude-opus-4-5': OPUS_4_5_PLUS,
  'claude-haiku-4-5': HAIKU_4_5,
  'claude-fable-5': TOP_TIER,
  'claude-mythos-5': TOP_TIER,
};

export function priceOf(model: string): { price: ModelPrice; known: boolean } {
  const key = Object.keys(PRICE_TABLE)
    .filter((k) => model === k || model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  const price = key ? PRICE_TABLE[key] : undefined;
  return price ? { price, known: true } : { price: TOP_TIER, known: false };
}

export type TokenCounts = Pick<ModelUsage, 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'cacheWriteTokens'>;

export function costUsd(model: string, t: TokenCounts): number {
  const { price } = priceOf(model);
  return (
    (t.inputTokens * price.input +
      t.outputTokens * price.output +
      t.cacheWriteTokens * price.cacheWrite +
      t.cacheReadTokens * price.cacheRead) /
    1_000_000
  );
}
