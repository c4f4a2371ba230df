/**
 * Parent side of the load generator (loadgen.ts): spawns it as a child process and sends it
 * requests over IPC. `pid` lets the benchmark read the child's CPU and memory from /proc.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export class LoadGenError extends Error {
  readonly code = 'LOADGEN_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'LoadGenError';
  }
}

export class LoadGen {
  readonly #child: ChildProcess;
  #seq = 0;
  readonly #pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #closed: Promise<void> | null = null;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (raw) => {
      const m = raw as { id?: number; ok?: boolean; error?: string };
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m as Record<string, unknown>);
      else p.reject(new LoadGenError(m.error ?? 'load generator failed'));
    });
    child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new LoadGenError(`load generator exited (${code})`));
      this.#pending.clear();
    });
  }

  static async start(): Promise<LoadGen> {
    // LOADGEN_NODE_ARGS: extra node flags for the child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
    const extra = (process.env['LOADGEN_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = fork(join(here, 'loadgen.ts'), [], { execArgv: [...extra, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { type?: string }): void => { if (m.type === 'ready') { child.off('message', onMsg); resolve(); } };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new LoadGenError(`load generator exited during start (${code})`)));
    });
    return new LoadGen(child);
  }

  get pid(): number { return this.#child.pid ?? 0; }

  request<T extends Record<string, unknown>>(type: string, body: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: Record<string, unknown>) => void, reject });
      this.#child.send({ id, type, ...body });
    });
  }

  /** Hangs up, closes the fakes and ends the child. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#child.exitCode !== null) return;
      const exited = new Promise<void>((r) => this.#child.once('exit', () => r()));
      await this.request('exit').catch(() => undefined);
      const t = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    })();
    return this.#closed;
  }
}
