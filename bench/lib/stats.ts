// Small numeric helpers shared by the benchmarks: percentiles over a sample, rounding, and the machine a figure was
// measured on (CPUs, load average, node version), which every result records because the machine is shared.
import { cpus, loadavg } from 'node:os';

/** The p-th percentile (0–100) by nearest rank; 0 for an empty sample. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? 0;
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  /** 1, 5 and 15-minute load averages when the measurement started. */
  loadAvg: [number, number, number];
  node: string;
  date: string;
}

export function describeMachine(): Machine {
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAvg: [round(l1, 2), round(l5, 2), round(l15, 2)],
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
