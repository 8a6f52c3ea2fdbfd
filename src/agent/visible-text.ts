// What a human sees of an issue or a comment on GitHub, as the text the model gets. The source is parsed with the
// same GFM parser as everything else (markdown/gfm.ts) and re-emitted from its own characters, minus what GitHub
// renders as nothing: HTML comments, link reference definitions (`[//]: # (…)`, titles included), link titles
// (tooltips), image alt text, elements marked `hidden` or `display:none`, and zero-width, bidi-control and other
// invisible characters. The counts say what was dropped, so the thread can say hidden content was ignored.
import type { Nodes, Parent } from 'mdast';
import { parseMarkdown } from '../markdown/gfm.js';
import { INVISIBLE_CHARS } from '../markdown/text.js';

export interface HiddenCounts {
  htmlComments: number;
  definitions: number;
  titles: number;
  hiddenElements: number;
  images: number;
  invisibleChars: number;
}

export interface VisibleText {
  text: string;
  hidden: HiddenCounts;
}

const HIDDEN_OPEN =
  /^<([a-z][a-z0-9-]*)\b[^>]*?\s(?:hidden\b|style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden))/i;

function emptyCounts(): HiddenCounts {
  return { htmlComments: 0, definitions: 0, titles: 0, hiddenElements: 0, images: 0, invisibleChars: 0 };
}

/** The visible text of a raw HTML fragment: comments and hidden elements dropped, tags removed, text kept. */
function visibleHtml(html: string, counts: HiddenCounts): string {
  return html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, () => {
      counts.htmlComments += 1;
      return '';
    })
    .replace(
      /<([a-z][a-z0-9-]*)\b[^>]*?\s(?:hidden\b|style\s*=\s*["'][^"']*display\s*:\s*none)[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi,
      () => {
        counts.hiddenElements += 1;
        return '';
      },
    )
    .replace(/<img\b[^>]*>/gi, () => {
      counts.images += 1;
      return '[image]';
    })
    .replace(/<\/?[a-z][a-z0-9-]*\b[^>]*>/gi, '');
}

function offsets(node: Nodes): [number, number] | undefined {
  const s = node.position?.start.offset;
  const e = node.position?.end.offset;
  return s === undefined || e === undefined ? undefined : [s, e];
}

function emitChildren(parent: Parent, src: string, from: number, to: number, counts: HiddenCounts): string {
  let out = '';
  let pos = from;
  const kids = parent.children as Nodes[];
  for (let i = 0; i < kids.length; i++) {
    const child = kids[i];
    if (!child) continue;
    const at = offsets(child);
    if (!at) continue;
    out += src.slice(pos, at[0]);
    // An inline element opened hidden: skip everything up to its closing tag.
    const html = child.type === 'html' ? child.value : '';
    const open = HIDDEN_OPEN.exec(html);
    if (open?.[1] && !/<\/[a-z]/i.test(html)) {
      const close = new RegExp(`^</${open[1]}\\s*>$`, 'i');
      let j = i + 1;
      while (j < kids.length) {
        const k = kids[j];
        if (k && k.type === 'html' && close.test(k.value.trim())) break;
        j++;
      }
      counts.hiddenElements += 1;
      const last = kids[Math.min(j, kids.length - 1)];
      pos = (last && offsets(last)?.[1]) ?? at[1];
      i = j;
      continue;
    }
    out += emit(child, src, counts);
    pos = at[1];
  }
  return out + src.slice(pos, to);
}

function emit(node: Nodes, src: string, counts: HiddenCounts): string {
  const at = offsets(node);
  if (!at) return '';
  switch (node.type) {
    case 'html':
      return visibleHtml(node.value, counts);
    case 'definition':
      counts.definitions += 1;
      if (node.title) counts.titles += 1;
      return '';
    case 'image':
    case 'imageReference':
      counts.images += 1;
      return '[image]';
    case 'link':
      if (node.title) {
        counts.titles += 1;
        const first = node.children[0] ? offsets(node.children[0]) : undefined;
        const last = node.children.at(-1) ? offsets(node.children.at(-1) as Nodes) : undefined;
        const text = first && last ? emitChildren(node, src, first[0], last[1], counts) : '';
        return `[${text}](${node.url})`;
      }
      break;
    default:
      break;
  }
  if ('children' in node) return emitChildren(node, src, at[0], at[1], counts);
  return src.slice(at[0], at[1]);
}

/** The text of `markdown` as GitHub shows it to a person (Markdown syntax kept, hidden content dropped). */
export function visibleText(markdown: string): VisibleText {
  const counts = emptyCounts();
  const src = markdown.replace(/\r\n?/g, '\n').replace(INVISIBLE_CHARS, () => {
    counts.invisibleChars += 1;
    return '';
  });
  const text = emit(parseMarkdown(src), src, counts)
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { text, hidden: counts };
}

/** One sentence for the thread when something was hidden, or undefined. */
export function describeHidden(h: HiddenCounts, where: string): string | undefined {
  const parts: string[] = [];
  const n = (count: number, one: string, many: string) => {
    if (count > 0) parts.push(`${count} ${count === 1 ? one : many}`);
  };
  n(h.htmlComments, 'HTML comment', 'HTML comments');
  n(h.definitions, 'link reference definition', 'link reference definitions');
  n(h.titles, 'link title', 'link titles');
  n(h.hiddenElements, 'hidden HTML element', 'hidden HTML elements');
  n(h.images, 'image (alt text)', 'images (alt text)');
  n(h.invisibleChars, 'invisible character', 'invisible characters');
  if (parts.length === 0) return undefined;
  return `Hidden content in ${where} was ignored (${parts.join(', ')}): the agent was given only what GitHub shows.`;
}
