// Hidden markers in bodies the app writes (PR body, progress comment, plan-output comments): HTML comments that
// render invisibly and let the app find its own comments and sections again after a restart. They are never
// authority: which issue a PR closes, who asked and which plan is bound come from the store (a person with write
// access can edit a PR body, and anyone can write a comment). A marker counts only as a real HTML node (the GFM
// parser says so, not a regex: a marker quoted in a code span or escaped text is no marker), and for comments only
// when the App's bot account wrote them (`isOwnComment`). Values are allowlisted so they cannot carry markup.
import { parseMarkdown } from './gfm.js';

export const MARKER_PREFIX = 'infra-agent:';

export type MarkerName =
  | 'run-id'
  | 'head-sha'
  | 'plan-hash'
  | 'body-hash'
  | 'kind'
  | 'issue'
  | 'progress'
  | 'plan-output'
  | 'reply'
  | 'project'
  | 'autoplan';

export type Markers = Partial<Record<MarkerName, string>>;

const VALUE = /^[A-Za-z0-9_.:/#,-]{1,128}$/;
const MARKER_RE = /^<!-- infra-agent:([a-z-]+)=([^\s>]{1,128}) -->$/;

export function renderMarkers(markers: Markers): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(markers)) {
    if (value === undefined) continue;
    if (!VALUE.test(value)) throw new Error(`marker ${name}: value not allowed: ${JSON.stringify(value)}`);
    lines.push(`<!-- ${MARKER_PREFIX}${name}=${value} -->`);
  }
  return lines.join('\n');
}

const NAMES: readonly MarkerName[] = [
  'run-id',
  'head-sha',
  'plan-hash',
  'body-hash',
  'kind',
  'issue',
  'progress',
  'plan-output',
  'reply',
  'project',
  'autoplan',
];

/** The HTML nodes of a body that are exactly one of our markers, in order. */
function markerNodes(body: string): Array<[MarkerName, string]> {
  const out: Array<[MarkerName, string]> = [];
  const walk = (node: { type: string; value?: unknown; children?: unknown }) => {
    if (node.type === 'html' && typeof node.value === 'string') {
      for (const line of node.value.split('\n')) {
        const m = MARKER_RE.exec(line.trim());
        const name = NAMES.find((n) => n === m?.[1]);
        if (name && m?.[2] && VALUE.test(m[2])) out.push([name, m[2]]);
      }
    }
    if (Array.isArray(node.children)) for (const c of node.children) walk(c);
  };
  walk(parseMarkdown(body));
  return out;
}

/**
 * The markers in a body the App wrote (the LAST occurrence of a name wins: the App writes its markers at the end).
 * Only for finding the App's own state; never for deciding who may do what.
 */
export function readMarkers(body: string | null | undefined): Markers {
  const out: Markers = {};
  if (!body) return out;
  for (const [name, value] of markerNodes(body)) out[name] = value;
  return out;
}

/** Whether `marker` (a whole `<!-- infra-agent:… -->`) is an HTML node of the body, not text that shows it. */
export function hasOwnMarker(body: string | null | undefined, marker: string): boolean {
  if (!body?.includes(marker)) return false;
  return markerNodes(body).some(([name, value]) => `<!-- ${MARKER_PREFIX}${name}=${value} -->` === marker.trim());
}

/** A comment counts as the App's only when its bot account wrote it (the exact login when known). */
export function isOwnComment(user: { login: string; type: string } | null | undefined, botLogin?: string): boolean {
  if (user?.type !== 'Bot') return false;
  return botLogin === undefined || user.login.toLowerCase() === botLogin.toLowerCase();
}

export function hasMarker(body: string | null | undefined, name: MarkerName): boolean {
  return readMarkers(body)[name] !== undefined;
}
