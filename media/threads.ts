/**
 * Starting a worker thread from a module of this package. Compiled, the entry is the sibling .js
 * file. Under tsx this module is a .ts file and Node 20 will not load a .ts worker entry even with
 * tsx in execArgv, so a one-line bootstrap registers tsx's loader inside the worker and then
 * imports the .ts entry.
 */
import { Worker } from 'node:worker_threads';

/** `entry` is relative to the calling module, without extension (e.g. `new URL('./x', import.meta.url)` minus `.ts`). */
export function startModuleWorker(callerUrl: string, entry: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${entry}.js`, callerUrl), { workerData });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const href = JSON.stringify(new URL(`${entry}.ts`, callerUrl).href);
  return new Worker(`import(${api}).then((t) => { t.register(); return import(${href}); });`, { eval: true, workerData });
}

/**
 * Waits for a worker's start-up verdict: `verdict` maps each message to a result, an Error (the
 * worker reported a failed start) or undefined (not yet). An 'error' or 'exit' before that is a
 * failed start too, built by `fail`. A failed worker is terminated.
 */
export function awaitWorkerStart<M, T>(
  worker: Worker,
  verdict: (m: M) => T | Error | undefined,
  fail: (reason: string, cause?: Error) => Error,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (): void => { worker.off('message', onMsg); worker.off('error', onErr); worker.off('exit', onExit); };
    const onMsg = (m: M): void => {
      const v = verdict(m);
      if (v === undefined) return;
      done();
      if (v instanceof Error) { void worker.terminate(); reject(v); } else resolve(v);
    };
    const onErr = (err: Error): void => { done(); void worker.terminate(); reject(fail(`failed to start: ${err.message}`, err)); };
    const onExit = (code: number): void => { done(); reject(fail(`exited during start (code ${code})`)); };
    worker.on('message', onMsg);
    worker.on('error', onErr);
    worker.on('exit', onExit);
  });
}
