/** Shared bits for the webhook tests: a temp store, a call context, polling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../engine/store/index.js';
import type { CallContext, JsonObject } from '../../../engine/webhooks/index.js';

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const openStore = (dataDir: string): Store => Store.open({ dataDir, masterKey: null });

export function context(callId: string, assistant: JsonObject): CallContext {
  return {
    call: { id: callId, type: 'inbound_phone_call', pipeline: 'standard' },
    phoneNumber: { id: '6f1c9a52-3d1e-4f7a-9a53-2b6f0f1f4c11', number: '+31850835037', name: 'Main Support Line' },
    customer: { number: '+31612345678' },
    assistant,
  };
}

/** Polls `pred` every 10 ms until true; throws with `what` after `timeoutMs`. */
export async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
