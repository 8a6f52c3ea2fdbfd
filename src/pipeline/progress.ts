// The progress comment: ONE comment per issue (or one reply per command on a PR), edited in place as the run moves
// through its stages — a checklist with timings, the check-run and PR links, and the final result or the error.
// Edits are coalesced: a stage's end is sent together with the next stage's start (or the final word), so a run
// makes one edit per stage transition, and a body identical to the last one sent is not sent again. A stage's start
// is sent in the background, in order, while the stage works (a GitHub round trip is not on the run's path); a write
// that failed is thrown at the next start, and the final word waits for every earlier write and is sent last.
import type { GitHubClient, RepoRef } from '../core/github.js';
import { upsertComment } from '../github/comments.js';
import { STAGES, type StageName } from '../stages/stages.js';
import type { Store } from '../store/types.js';
import { redact } from '../util/redact.js';

type Status = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';

interface StageLine {
  status: Status;
  startedAt?: number;
  durationMs?: number;
  note?: string;
}

const ICON: Record<Status, string> = { pending: '⬜', running: '⏳', ok: '✅', failed: '❌', skipped: '⏭️' };

export interface ProgressTarget {
  repo: RepoRef;
  issueNumber: number;
  key: string;
  marker: string;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export class Progress {
  private readonly lines = new Map<StageName, StageLine>();
  private readonly links = new Map<string, string>();
  private result: string | undefined;
  /** The App's own remarks shown under the heading (e.g. that hidden content in the request was ignored). */
  private readonly remarks: string[] = [];
  private failed = false;
  /** The body last sent: an unchanged render is not re-sent (upsertComment also compares hashes, via the store). */
  private lastSent: string | undefined;
  /** The writes in flight, one after another (the first one creates the comment the others edit). */
  private writes: Promise<void> = Promise.resolve();
  /** The first background write that failed, not thrown yet. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly title: string,
    private readonly runId: string,
    private readonly target: ProgressTarget | undefined,
    private readonly octokit: GitHubClient,
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    for (const s of STAGES) this.lines.set(s.name, { status: 'pending' });
  }

  async start(stage: StageName): Promise<void> {
    // GitHub down: the run stops here as it would have at the write itself (a transient failure, retried).
    this.throwFailure();
    this.lines.set(stage, { status: 'running' });
    const body = this.body();
    this.writes = this.writes.then(async () => {
      if (this.failure) return;
      await this.send(body).catch((error: unknown) => {
        this.failure = { error };
      });
    });
    this.lines.set(stage, { status: 'running', startedAt: this.now() });
  }

  private throwFailure(): void {
    const f = this.failure;
    if (!f) return;
    this.failure = undefined;
    throw f.error;
  }

  async end(stage: StageName, status: 'ok' | 'failed' | 'skipped', note?: string): Promise<void> {
    const line = this.lines.get(stage) ?? { status: 'pending' };
    const durationMs = line.startedAt !== undefined ? this.now() - line.startedAt : undefined;
    this.lines.set(stage, {
      status,
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(note ? { note: redact(note) } : {}),
    });
    if (status === 'failed') this.failed = true;
    // Not sent now: the next start() or finish() follows at once and carries this line with it.
  }

  /** A remark of the App's own (Markdown built from validated data), shown from the next update on. */
  remark(markdown: string): void {
    if (!this.remarks.includes(markdown)) this.remarks.push(markdown);
  }

  link(name: string, url: string): void {
    this.links.set(name, url);
  }

  /** The final word: the result (links, verdict) or why it stopped and what to do next. */
  async finish(markdown: string): Promise<void> {
    this.result = redact(markdown);
    await this.writes;
    // The final word replaces whatever an earlier write failed to show: only its own failure counts.
    this.failure = undefined;
    await this.send(this.body());
  }

  render(): string {
    const head = this.result === undefined ? '⏳ working' : this.failed ? '❌ stopped' : '✅ done';
    const out = [`### infra-agent · ${this.title} · ${head}`, ''];
    for (const r of this.remarks) out.push(`> ${r}`, '');
    for (const s of STAGES) {
      const l = this.lines.get(s.name);
      if (!l) continue;
      const time = l.durationMs !== undefined ? ` (${seconds(l.durationMs)})` : '';
      const note = l.note ? ` — ${l.note.replace(/\s+/g, ' ').slice(0, 300)}` : '';
      out.push(`- ${ICON[l.status]} ${s.label}${time}${note}`);
    }
    if (this.links.size > 0) {
      out.push('', [...this.links.entries()].map(([name, url]) => `[${name}](${url})`).join(' · '));
    }
    if (this.result !== undefined) out.push('', this.result);
    out.push('', `<sub>run \`${this.runId}\`</sub>`);
    return out.join('\n');
  }

  private body(): string | undefined {
    return this.target ? `${this.render()}\n${this.target.marker}` : undefined;
  }

  private async send(body: string | undefined): Promise<void> {
    if (!this.target || body === undefined || body === this.lastSent) return;
    await upsertComment(this.octokit, this.store, this.target, body);
    this.lastSent = body;
  }
}
