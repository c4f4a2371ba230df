/**
 * Child process for the crash test: opens the store, writes one end-of-call report to the outbox
 * (and, in mode "attempt", starts delivering it), prints the row id, then waits to be SIGKILLed.
 * Usage: node --import tsx crash-child.ts <dataDir> <url> <mode: enqueue|attempt>
 */
import { Store } from '../../../engine/store/index.js';
import { WebhookOutbox, buildEndOfCallReport } from '../../../engine/webhooks/index.js';

const [dataDir, url, mode] = process.argv.slice(2) as [string, string, string];
const store = Store.open({ dataDir, masterKey: null });
const outbox = new WebhookOutbox({ repo: store.outbox, allowHttp: true, timeoutMs: 60_000 });
const payload = buildEndOfCallReport({
  call: { id: 'call-crash-child', type: 'outbound_phone_call', pipeline: 'standard' },
  phoneNumber: { id: null, number: '+31850835037', name: null },
  customer: { number: '+31612345678' },
  assistant: { id: null, name: 'crash' },
}, { durationSeconds: 0, summary: '', messages: [], endReason: 'error' });
const id = outbox.enqueue({ orgId: 'org-crash', callId: 'call-crash-child', target: { url, secret: 'whsec_crash', source: 'assistant' }, payload });
if (mode === 'attempt') outbox.start();
process.stdout.write(id + '\n');
setInterval(() => undefined, 60_000);
