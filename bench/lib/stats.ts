/**
 * Small statistics and reporting helpers shared by the benchmarks: percentiles, the machine's
 * facts (cores, load), a results writer and a plain-text table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function summarize(values: readonly number[], round: (x: number) => number = round1): Summary {
  const s = Float64Array.from(values).sort();
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
  return { n: s.length, p50: round(pct(s, 50)), p95: round(pct(s, 95)), p99: round(pct(s, 99)), max: round(s.length ? s[s.length - 1]! : 0), mean: round(mean) };
}

/** {p50, p95} only (the DESIGN.md §8 shape), plus n. */
export function p50p95(values: readonly number[]): { p50: number; p95: number; n: number } {
  const s = summarize(values);
  return { p50: s.p50, p95: s.p95, n: s.n };
}

export interface MachineFacts {
  readonly cores: number;
  readonly cpu: string;
  readonly mem_gb: number;
  readonly node: string;
  readonly loadavg: number[];
}

export function machine(): MachineFacts {
  return {
    cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', mem_gb: Math.round(totalmem() / 2 ** 30), node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes bench/results/<name>.json. */
export function writeResult(name: string, result: Record<string, unknown>): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/** A right-aligned plain-text table. */
export function table(head: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cells = [head.map(String), ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n');
}

/** Prints the machine line every benchmark starts with. */
export function printMachine(name: string, m: MachineFacts = machine()): void {
  console.log(`${name}: ${m.cores} cores (${m.cpu}), ${m.mem_gb} GB, node ${m.node}, load average ${m.loadavg.join(' ')}`);
}
