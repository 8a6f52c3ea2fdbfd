// The monthly budget a request states in plain words ("under $200 a month", "budget of $1,500/month",
// "no more than 300 USD per month", "max $2k/mo"): the most the change may add to the monthly bill. Only amounts tied
// to a month count, so "a $5 domain" or "$200 one-off" are not budgets. The smallest stated amount wins.

const AMOUNT = String.raw`(?:\$|usd\s*|us\$)\s*(\d[\d,]*(?:\.\d+)?)\s*(k)?|(\d[\d,]*(?:\.\d+)?)\s*(k)?\s*(?:usd|dollars|\$)`;
const MONTH = String.raw`(?:a|per|each|\/|every)\s*(?:month|mo)\b|monthly|\/\s*mo(?:nth)?\b|a month|per month`;
const LIMIT = String.raw`under|below|less than|at most|no more than|not more than|max(?:imum)?|up to|within|budget(?:\s+(?:of|is|:))?|cap(?:ped)?(?:\s+at)?|≤|<=?`;

const PATTERNS = [
  // "under $200 a month", "budget of $1,500/month", "max 300 USD per month"
  new RegExp(String.raw`(?:${LIMIT})\s*(?:of\s*)?(?:${AMOUNT})\s*(?:${MONTH})`, 'gi'),
  // "$200 a month budget", "$200/month max", "$200 monthly limit"
  new RegExp(String.raw`(?:${AMOUNT})\s*(?:${MONTH})\s*(?:budget|max(?:imum)?|limit|cap|or less|at most|tops)`, 'gi'),
  // "monthly budget of $200", "monthly budget: $200"
  new RegExp(String.raw`monthly\s+(?:budget|limit|cap)\s*(?:of|is|:)?\s*(?:${AMOUNT})`, 'gi'),
];

function toNumber(digits: string | undefined, k: string | undefined): number | undefined {
  if (!digits) return undefined;
  const n = Number(digits.replace(/,/g, ''));
  if (!Number.isFinite(n)) return undefined;
  return k ? n * 1000 : n;
}

/** The monthly budget (USD) the text states, or undefined. */
export function parseBudget(text: string): number | undefined {
  const found: number[] = [];
  for (const re of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const n = toNumber(m[1], m[2]) ?? toNumber(m[3], m[4]);
      if (n !== undefined && n >= 0) found.push(n);
    }
  }
  return found.length > 0 ? Math.min(...found) : undefined;
}
