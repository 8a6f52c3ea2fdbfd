// Hidden markers in bodies the app writes (PR body, progress comment, plan-output comments): HTML comments that
// render invisibly and let the app find and update its own state after a restart, without trusting anything else in
// the body. Values are allowlisted so a human editing the body cannot inject markup through them.

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
  | 'project';

export type Markers = Partial<Record<MarkerName, string>>;

const VALUE = /^[A-Za-z0-9_.:/#,-]{1,128}$/;
const MARKER_RE = /<!-- infra-agent:([a-z-]+)=([^\s>]{1,128}) -->/g;

export function renderMarkers(markers: Markers): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(markers)) {
    if (value === undefined) continue;
    if (!VALUE.test(value)) throw new Error(`marker ${name}: value not allowed: ${JSON.stringify(value)}`);
    lines.push(`<!-- ${MARKER_PREFIX}${name}=${value} -->`);
  }
  return lines.join('\n');
}

/** The markers in a body. The LAST occurrence of a name wins: the app writes its markers at the end. */
export function readMarkers(body: string | null | undefined): Markers {
  const out: Markers = {};
  if (!body) return out;
  for (const m of body.matchAll(MARKER_RE)) {
    const [, name, value] = m;
    if (name && value && VALUE.test(value)) out[name as MarkerName] = value;
  }
  return out;
}

export function hasMarker(body: string | null | undefined, name: MarkerName): boolean {
  return readMarkers(body)[name] !== undefined;
}
