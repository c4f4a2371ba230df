/**
 * Runs the e2e harness (engine + fake providers, provisioned) in a process of its own, for
 * benchmarks whose test caller must not share the engine's event loop (a phone does not send late
 * because the engine is busy). Options: JSON in argv[2] (HarnessOptions). Prints one JSON line
 * with the addresses, then runs until stdin closes or SIGTERM, and closes cleanly.
 */
import { startHarness } from '../../test/e2e/harness.js';
import type { HarnessOptions } from '../../test/e2e/harness.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as HarnessOptions;
const h = await startHarness(opts);
process.stdout.write(JSON.stringify({
  sipHost: h.sipHost, sipPort: h.sipPort, number: h.number, apiUrl: h.apiUrl,
  mediaWorkers: h.engine.calls?.mediaWorkers ?? 0, mediaPriorities: h.engine.calls?.mediaPriorities ?? [],
}) + '\n');
let closing = false;
const close = (): void => {
  if (closing) return;
  closing = true;
  void h.close().finally(() => process.exit(0));
};
process.stdin.on('end', close);
process.stdin.resume();
process.on('SIGTERM', close);
