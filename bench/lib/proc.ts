/**
 * CPU time and resident memory of a process from /proc (Linux), to report CPU and memory per
 * call. `sampleProcess(pid)` reads utime+stime (ms) and VmRSS (MB).
 */
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) is 100 on Linux x86-64/arm64

export interface ProcSample {
  readonly at: number;
  /** User + system CPU time of the whole process (all threads), ms. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

export function sampleProcess(pid: number = process.pid): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(f[11]), stime = Number(f[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { at: performance.now(), cpuMs: ((utime + stime) * 1000) / CLK_TCK, rssMb: rssKb / 1024 };
}

/** CPU use between two samples, in % of one core. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = b.at - a.at;
  return wall > 0 ? (100 * (b.cpuMs - a.cpuMs)) / wall : 0;
}

/** Whole-machine CPU busy % between two /proc/stat readings. */
export function systemCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function systemBusyPercent(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const dt = b.total - a.total;
  return dt > 0 ? (100 * (b.busy - a.busy)) / dt : 0;
}

/**
 * Scheduler figures of a process's MAIN thread (its event loop) from /proc/<pid>/schedstat: time
 * on the CPU and time spent runnable but WAITING for a CPU (taken by other threads/processes).
 */
export function mainThreadSched(pid: number = process.pid): { runMs: number; waitMs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { runMs: (run ?? 0) / 1e6, waitMs: (wait ?? 0) / 1e6 };
  } catch {
    return { runMs: 0, waitMs: 0 };
  }
}

/** CPU time (ms) of every thread of a process, by thread id. */
export function sampleThreads(pid: number = process.pid): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t), ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/**
 * Per-thread CPU between two samples, in % of one core, busiest first (threads under 1 % left out).
 * `names` labels known thread ids (the main thread is `pid`).
 */
export function threadCpu(a: Map<number, number>, b: Map<number, number>, wallMs: number, names: ReadonlyMap<number, string>): Array<{ thread: string; cpu_pct: number }> {
  const rows: Array<{ thread: string; cpu_pct: number }> = [];
  for (const [tid, ms] of b) {
    const pct = wallMs > 0 ? (100 * (ms - (a.get(tid) ?? 0))) / wallMs : 0;
    if (pct >= 1) rows.push({ thread: names.get(tid) ?? `tid ${tid}`, cpu_pct: Math.round(pct) });
  }
  return rows.sort((x, y) => y.cpu_pct - x.cpu_pct);
}
