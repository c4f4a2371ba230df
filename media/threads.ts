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
