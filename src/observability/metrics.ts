// /metrics in the Prometheus text exposition format (version 0.0.4), written here rather than pulling in a client
// library: four metric families and one renderer. Counters and the stage histogram are per process (Prometheus
// scrapes every web and worker process); run counts by status and the queue depth are read from the store and the
// queue at scrape time (`collectMetrics`), so any process reports the shared truth.
import type { ModelUsage, RunKind, RunStatus } from '../core/types.js';
import type { QueueDepth } from '../queue/types.js';

type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

abstract class Family {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
  }
  abstract samples(): string[];
  abstract reset(): void;
  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join(
      '\n',
    );
  }
}

class Series extends Family {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels, by = 1): void {
    if (this.type === 'counter' && by < 0) throw new Error(`${this.name}: a counter only goes up`);
    const k = labelKey(labels);
    const cur = this.values.get(k);
    this.values.set(k, { labels, value: (cur?.value ?? 0) + by });
  }
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), { labels, value });
  }
  get(labels: Labels): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }
  reset(): void {
    this.values.clear();
  }
  samples(): string[] {
    return [...this.values.values()].map((s) => `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
}

class Histogram extends Family {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    this.buckets.forEach((b, i) => {
      if (value <= b && s) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
  }
  reset(): void {
    this.series.clear();
  }
  samples(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        out.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: formatValue(b) })} ${s.counts[i] ?? 0}`);
      });
      out.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${formatLabels(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** Seconds: from a quick fmt to a long apply. */
const STAGE_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface MetricsSources {
  /** Runs per kind and status, e.g. Store.countRuns. */
  countRuns?: () => Promise<{ kind: RunKind; status: RunStatus; count: number }[]>;
  /** Queue.depth. */
  queueDepth?: () => Promise<QueueDepth>;
  /** Drift status of every checked project (Store.listDrift). */
  driftStatus?: () => Promise<{ state: 'clean' | 'drifted' | 'error'; firstSeenAt: Date | null }[]>;
}

export class Metrics {
  readonly runsFinished = new Series('infra_agent_runs_finished_total', 'Runs finished by this process.', 'counter');
  readonly runs = new Series('infra_agent_runs', 'Runs in the store by kind and status.', 'gauge');
  readonly stageDuration = new Histogram(
    'infra_agent_stage_duration_seconds',
    'Duration of run stages (checkout, agent, plan, scan, apply…).',
    STAGE_BUCKETS,
  );
  readonly queueJobs = new Series('infra_agent_queue_jobs', 'Jobs in the queue by state.', 'gauge');
  readonly modelTokens = new Series('infra_agent_model_tokens_total', 'Model tokens used, by type.', 'counter');
  readonly modelCost = new Series('infra_agent_model_cost_usd_total', 'Model cost in US dollars.', 'counter');
  readonly webhooks = new Series('infra_agent_webhooks_total', 'Webhook deliveries received, by event.', 'counter');
  readonly driftChecks = new Series(
    'infra_agent_drift_checks_total',
    'Drift checks run by this process, by result (clean, drifted, error = failed).',
    'counter',
  );
  readonly driftProjects = new Series('infra_agent_drift_projects', 'Projects by drift state (last check).', 'gauge');
  readonly driftOldest = new Series(
    'infra_agent_drift_oldest_age_seconds',
    'Age of the oldest unresolved drift (0 when nothing is drifted).',
    'gauge',
  );
  readonly scrapeErrors = new Series(
    'infra_agent_metrics_collect_errors_total',
    'Failures reading the store or queue for /metrics.',
    'counter',
  );
  private readonly families: Family[] = [
    this.runsFinished,
    this.runs,
    this.stageDuration,
    this.queueJobs,
    this.modelTokens,
    this.modelCost,
    this.webhooks,
    this.driftChecks,
    this.driftProjects,
    this.driftOldest,
    this.scrapeErrors,
  ];

  /** A run reached a final status. */
  recordRun(kind: RunKind, status: RunStatus): void {
    this.runsFinished.inc({ kind, status });
  }

  /** A stage ended (durations in ms, as StageResult and RunEventRecord carry them). */
  observeStage(stage: string, status: string, durationMs: number): void {
    this.stageDuration.observe({ stage, status }, durationMs / 1000);
  }

  recordModelUsage(usage: ModelUsage, kind: RunKind): void {
    this.modelTokens.inc({ kind, type: 'input' }, usage.inputTokens);
    this.modelTokens.inc({ kind, type: 'output' }, usage.outputTokens);
    this.modelTokens.inc({ kind, type: 'cache_read' }, usage.cacheReadTokens);
    this.modelTokens.inc({ kind, type: 'cache_write' }, usage.cacheWriteTokens);
    this.modelCost.inc({ kind }, usage.costUsd);
  }

  recordDriftCheck(result: 'clean' | 'drifted' | 'error'): void {
    this.driftChecks.inc({ result });
  }

  /** Projects drifted / failing and the oldest drift's age, from the store's drift status rows. */
  setDrift(rows: { state: 'clean' | 'drifted' | 'error'; firstSeenAt: Date | null }[], now = Date.now()): void {
    for (const state of ['clean', 'drifted', 'error'] as const) {
      this.driftProjects.set({ state }, rows.filter((r) => r.state === state).length);
    }
    const oldest = rows
      .filter((r) => r.state === 'drifted' && r.firstSeenAt)
      .reduce((min, r) => Math.min(min, r.firstSeenAt?.getTime() ?? now), now);
    this.driftOldest.set({}, Math.max(0, Math.round((now - oldest) / 1000)));
  }

  recordWebhook(event: string): void {
    this.webhooks.inc({ event });
  }

  setQueueDepth(depth: QueueDepth): void {
    this.queueJobs.set({ state: 'queued' }, depth.queued);
    this.queueJobs.set({ state: 'active' }, depth.active);
    this.queueJobs.set({ state: 'failed' }, depth.failed);
  }

  /** Refresh the gauges read from shared state; a failing source is counted, the rest still render. */
  async collect(sources: MetricsSources): Promise<void> {
    const tasks: Promise<void>[] = [];
    const countRuns = sources.countRuns;
    if (countRuns) {
      tasks.push(
        countRuns().then((rows) => {
          this.runs.reset();
          for (const r of rows) this.runs.set({ kind: r.kind, status: r.status }, r.count);
        }),
      );
    }
    const queueDepth = sources.queueDepth;
    if (queueDepth) tasks.push(queueDepth().then((d) => this.setQueueDepth(d)));
    const driftStatus = sources.driftStatus;
    if (driftStatus) tasks.push(driftStatus().then((rows) => this.setDrift(rows)));
    const results = await Promise.allSettled(tasks);
    for (const r of results) if (r.status === 'rejected') this.scrapeErrors.inc({});
  }

  render(): string {
    return `${this.families.map((f) => f.render()).join('\n')}\n`;
  }

  reset(): void {
    for (const f of this.families) f.reset();
  }
}

/** The process-wide metrics. */
export const metrics = new Metrics();

/** The body of GET /metrics (Content-Type: text/plain; version=0.0.4). */
export function renderMetrics(): string {
  return metrics.render();
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Refresh the store/queue gauges of the process-wide metrics, then render: what the /metrics route calls. */
export async function collectAndRenderMetrics(sources: MetricsSources): Promise<string> {
  await metrics.collect(sources);
  return metrics.render();
}
