// /metrics output is valid Prometheus text and follows what happened: runs recorded, stages timed, store counts.
import { describe, expect, it } from 'vitest';
import { Metrics, renderMetrics } from '../../src/observability/metrics.js';
import { createStore } from '../../src/store/create-store.js';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(
  `^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? (-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|NaN|\\+Inf|-Inf)$`,
);
const COMMENT = new RegExp(`^# (?:HELP ${NAME} .*|TYPE ${NAME} (?:counter|gauge|histogram|summary|untyped))$`);

/** Every line is a comment or a sample; every sample's family was declared with TYPE. Returns samples by line. */
function parse(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  const samples = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('#')) {
      expect(line).toMatch(COMMENT);
      const m = /^# TYPE (\S+)/.exec(line);
      if (m?.[1]) typed.add(m[1]);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, line).not.toBeNull();
    const name = m?.[1] ?? '';
    const family = name.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(name) || typed.has(family), name).toBe(true);
    samples.set(`${name}${m?.[2] ?? ''}`, Number(m?.[3]?.replace('+Inf', 'Infinity')));
  }
  return samples;
}

describe('metrics', () => {
  it('renders valid exposition text that changes after runs, stages and model usage are recorded', () => {
    const m = new Metrics();
    const before = parse(m.render());
    expect(before.size).toBe(0);
    m.recordRun('plan', 'succeeded');
    m.recordRun('plan', 'succeeded');
    m.recordRun('apply', 'needs-human');
    m.observeStage('plan', 'ok', 800);
    m.observeStage('plan', 'ok', 45_000);
    m.observeStage('odd "stage"\nname', 'failed', 1);
    m.recordModelUsage(
      {
        inputTokens: 1000,
        outputTokens: 200,
        cacheReadTokens: 50,
        cacheWriteTokens: 0,
        costUsd: 0.0123,
        turns: 3,
        durationMs: 9,
      },
      'generate',
    );
    m.setQueueDepth({ queued: 4, active: 1, failed: 0 });
    const s = parse(m.render());
    expect(s.get('infra_agent_runs_finished_total{kind="plan",status="succeeded"}')).toBe(2);
    expect(s.get('infra_agent_runs_finished_total{kind="apply",status="needs-human"}')).toBe(1);
    expect(s.get('infra_agent_stage_duration_seconds_bucket{le="1",stage="plan",status="ok"}')).toBe(1);
    expect(s.get('infra_agent_stage_duration_seconds_bucket{le="60",stage="plan",status="ok"}')).toBe(2);
    expect(s.get('infra_agent_stage_duration_seconds_bucket{le="+Inf",stage="plan",status="ok"}')).toBe(2);
    expect(s.get('infra_agent_stage_duration_seconds_sum{stage="plan",status="ok"}')).toBeCloseTo(45.8);
    expect(s.get('infra_agent_stage_duration_seconds_count{stage="odd \\"stage\\"\\nname",status="failed"}')).toBe(1);
    expect(s.get('infra_agent_model_tokens_total{kind="generate",type="input"}')).toBe(1000);
    expect(s.get('infra_agent_model_cost_usd_total{kind="generate"}')).toBeCloseTo(0.0123);
    expect(s.get('infra_agent_queue_jobs{state="queued"}')).toBe(4);
    expect(() => m.runsFinished.inc({}, -1)).toThrow(/only goes up/);
  });

  it('reads run counts and queue depth from the store at scrape time; a failing source is counted', async () => {
    const store = await createStore({ dataDir: 'memory://' });
    try {
      const m = new Metrics();
      const a = await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 1 });
      await store.createRun({ kind: 'plan', repo: 'acme/infra', number: 2 });
      await m.collect({ countRuns: () => store.countRuns() });
      let s = parse(m.render());
      expect(s.get('infra_agent_runs{kind="plan",status="queued"}')).toBe(2);
      await store.updateRun(a.id, { status: 'succeeded' });
      await m.collect({
        countRuns: () => store.countRuns(),
        queueDepth: () => Promise.reject(new Error('queue down')),
      });
      s = parse(m.render());
      expect(s.get('infra_agent_runs{kind="plan",status="queued"}')).toBe(1);
      expect(s.get('infra_agent_runs{kind="plan",status="succeeded"}')).toBe(1);
      expect(s.get('infra_agent_metrics_collect_errors_total')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('the process-wide renderer produces parseable text', () => {
    parse(renderMetrics());
  });
});
