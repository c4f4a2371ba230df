/** Starts bench/lib/engine-child.ts and returns its addresses and a close(). */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { HarnessOptions } from '../../test/e2e/harness.js';

export interface EngineProcess {
  readonly pid: number;
  readonly sipHost: string;
  readonly sipPort: number;
  readonly number: string;
  readonly apiUrl: string;
  readonly mediaWorkers: number;
  readonly mediaPriorities: string[];
  close(): Promise<void>;
}

export async function startEngineProcess(opts: HarnessOptions): Promise<EngineProcess> {
  const script = fileURLToPath(new URL('./engine-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`engine process exited (${code}) before it was up`)));
  });
  const info = JSON.parse(line) as Omit<EngineProcess, 'pid' | 'close'>;
  return {
    ...info, pid: child.pid!,
    close: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
