import { describe, expect, it } from 'vitest';
import { fenceFor, splitMarkdown } from '../../src/markdown/split-comment.js';

/** Replays CommonMark fence rules over a chunk: true when every opened fence is closed. */
function balanced(chunk: string): boolean {
  let open: { char: string; length: number } | undefined;
  for (const line of chunk.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const char = m[1][0] ?? '';
    if (char === '`' && (m[2] ?? '').includes('`')) continue;
    if (!open) open = { char, length: m[1].length };
    else if (char === open.char && m[1].length >= open.length && (m[2] ?? '').trim() === '') open = undefined;
  }
  return open === undefined;
}

/** What a reader sees: the chunks' fenced content concatenated, minus the closers/openers the splitter added. */
function inner(chunks: string[]): string {
  return chunks.join('\n');
}

describe('splitMarkdown', () => {
  it('returns short balanced text unchanged', () => {
    expect(splitMarkdown('hello\n```\ncode\n```\n', 1000)).toEqual(['hello\n```\ncode\n```\n']);
  });

  it('closes and reopens a fence with its language tag when a chunk ends inside it', () => {
    const plan = Array.from({ length: 100 }, (_, i) => `  + resource_${i} = "value-${i}"`).join('\n');
    const text = `## Plan\n\n\`\`\`hcl\n${plan}\n\`\`\`\nafter`;
    const chunks = splitMarkdown(text, 500);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(500);
      expect(balanced(c)).toBe(true);
    }
    expect(chunks[1]?.startsWith('```hcl\n')).toBe(true);
    expect(chunks.at(-1)?.endsWith('after')).toBe(true);
    // every plan line survives, in order, exactly once
    const seen = inner(chunks)
      .split('\n')
      .filter((l) => l.startsWith('  + resource_'));
    expect(seen).toEqual(plan.split('\n'));
  });

  it('keeps tilde fences, longer backtick fences and fence-looking lines inside them straight', () => {
    const body = [
      '````',
      '```hcl', // not a closer: shorter and has info
      ...Array.from({ length: 40 }, (_, i) => `line ${i} ${'x'.repeat(20)}`),
      '```', // shorter than the opener: content, not a closer
      '````',
      '~~~',
      ...Array.from({ length: 40 }, (_, i) => `tilde ${i} ${'y'.repeat(20)}`),
      '```',
      '~~~',
    ].join('\n');
    const chunks = splitMarkdown(body, 300);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(300);
      expect(balanced(c)).toBe(true);
    }
    // a chunk continuing the first block reopens with four backticks
    expect(chunks.some((c, i) => i > 0 && c.startsWith('````\n'))).toBe(true);
    expect(chunks.some((c, i) => i > 0 && c.startsWith('~~~\n'))).toBe(true);
  });

  it('hard-wraps a single enormous line and still balances the fence around it', () => {
    const text = `\`\`\`\n${'z'.repeat(5000)}\n\`\`\``;
    const chunks = splitMarkdown(text, 400);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(400);
      expect(balanced(c)).toBe(true);
    }
    expect(chunks.join('').replace(/[^z]/g, '').length).toBe(5000);
  });

  it('closes a fence the author never closed', () => {
    const chunks = splitMarkdown(`intro\n\`\`\`\n${'a\n'.repeat(300)}`, 250);
    for (const c of chunks) expect(balanced(c)).toBe(true);
  });

  it('survives random adversarial input: every chunk bounded and balanced, no content lost', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const atoms = [
      '```',
      '````',
      '~~~',
      '```hcl',
      '``` `x`',
      '   ```',
      '    ```',
      'text',
      '',
      'a'.repeat(700),
      '> ```',
    ];
    for (let round = 0; round < 50; round++) {
      const lines = Array.from({ length: 200 }, () => atoms[Math.floor(rnd() * atoms.length)] ?? '');
      const text = lines.join('\n');
      const max = 200 + Math.floor(rnd() * 2000);
      const chunks = splitMarkdown(text, max);
      for (const c of chunks) {
        expect(c.length).toBeLessThanOrEqual(max);
        expect(balanced(c)).toBe(true);
      }
      const count = (s: string) => (s.match(/text/g) ?? []).length;
      expect(count(chunks.join('\n'))).toBe(count(text));
    }
  });

  it('refuses a chunk size too small to hold an opener and a closer', () => {
    expect(() => splitMarkdown('x', 10)).toThrow(/at least 200/);
  });
});

describe('fenceFor', () => {
  it('is longer than any backtick run in the content', () => {
    expect(fenceFor('a ```` b', 'hcl')).toEqual({ open: '`````hcl', close: '`````' });
    expect(fenceFor('plain')).toEqual({ open: '```', close: '```' });
  });
});
