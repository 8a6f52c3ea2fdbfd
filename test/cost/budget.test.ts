import { describe, expect, it } from 'vitest';
import { parseBudget } from '../../src/cost/budget.js';

describe('the budget a request states', () => {
  it.each([
    ['Add a Postgres database for the billing service, keep it under $200 a month.', 200],
    ['budget of $1,500/month for the whole thing', 1500],
    ['No more than 300 USD per month please', 300],
    ['max $2k/mo', 2000],
    ['Our monthly budget: $450', 450],
    ['$120 a month max', 120],
    ['under $99.50 per month', 99.5],
    ['at most $50 monthly, and under $80 a month for sure', 50],
  ])('%s → %d', (text, budget) => {
    expect(parseBudget(text)).toBe(budget);
  });

  it.each([
    ['Add a bucket for the $5 domain verification file'],
    ['It saved us $200 last year'],
    ['Create 3 instances under the m5 family'],
    [''],
  ])('no budget in %j', (text) => {
    expect(parseBudget(text)).toBeUndefined();
  });
});
