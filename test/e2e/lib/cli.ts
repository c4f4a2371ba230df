/**
 * Manual use of the test caller against a running engine (`npm start`):
 *
 *   npx tsx test/e2e/lib/cli.ts --port 5060 --to +31850835037 \
 *     --say "What time do you open tomorrow?" --say "Thank you, goodbye." [--record /tmp/call.wav]
 *
 * Waits for the greeting, then says each sentence after the agent went quiet (--quiet-ms), waits
 * for each answer, hangs up and prints the timeline and the response latencies.
 */
import { parseArgs } from 'node:util';
import { TestCaller, formatTimeline, responseLatencies, bargeIns } from '../caller.js';
import type { AudioCodecName } from '../../../media/index.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5060' },
    to: { type: 'string', default: '+31850835037' },
    from: { type: 'string', default: '+31612345678' },
    codec: { type: 'string', multiple: true },
    say: { type: 'string', multiple: true },
    'quiet-ms': { type: 'string', default: '800' },
    'timeout-ms': { type: 'string', default: '15000' },
    record: { type: 'string' },
    trace: { type: 'boolean', default: false },
  },
});

const caller = await TestCaller.start({ trace: values.trace ?? false });
try {
  const call = await caller.dial({
    host: values.host ?? '127.0.0.1', port: Number(values.port), to: values.to ?? '', from: values.from ?? '',
    ...(values.codec ? { codecs: values.codec as AudioCodecName[] } : {}),
    ...(values.record ? { recordTo: values.record } : {}),
  });
  const quietMs = Number(values['quiet-ms']);
  const timeoutMs = Number(values['timeout-ms']);
  try {
    await call.waitForAgentSpeech({ timeoutMs });
    await call.waitForAgentSilence({ silenceMs: quietMs, timeoutMs });
  } catch (err) {
    console.error(`no greeting: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const text of values.say ?? []) {
    if (call.ended) break;
    await call.sayText(text);
    try {
      await call.waitForAgentSpeech({ timeoutMs });
      await call.waitForAgentSilence({ silenceMs: quietMs, timeoutMs });
    } catch (err) {
      console.error(`no answer to "${text}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await call.hangup();
  console.log(formatTimeline(call.timeline()));
  console.log(JSON.stringify({ setupMs: call.setupMs, responses: responseLatencies(call.timeline()), bargeIns: bargeIns(call.timeline()) }, null, 2));
} finally {
  await caller.close();
}
