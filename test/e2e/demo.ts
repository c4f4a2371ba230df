/**
 * `npm run demo`: an offline sandbox. Starts every fake provider and a real engine (SIP, RTP,
 * Silero VAD, pacer, API) on loopback, places one SIP call with the test caller (speech clips that
 * ship in test/fixtures/audio), and prints the conversation, the timeline heard on the wire and
 * the engine's latency breakdown. No network, no keys, no Debian package needed.
 */
import { fixtureClips, formatTimeline, loadFixtureClip, responseLatencies, TestCaller } from './caller.js';
import { startHarness } from './harness.js';

type Obj = Record<string, any>;

const clips = fixtureClips();
const text = (file: string): string => clips.find((c) => c.file === file)?.text ?? '';
const turns = ['caller-book-table.wav', 'caller-what-time.wav', 'caller-goodbye.wav'];

const out = (s = ''): void => void process.stdout.write(s + '\n');
// Interactive runs keep the sandbox up afterwards so the API can be explored with the printed key.
const stay = process.stdout.isTTY === true && !process.argv.includes('--exit');
out('Starting the fake providers and the engine on 127.0.0.1 ...');
const h = await startHarness({
  env: { API_PORT: process.env.API_PORT ?? (stay ? '8080' : '0') },
  assistant: {
    name: 'Demo restaurant', first_message: 'Hello! Thanks for calling. How can I help you today?',
    llm_config: { provider: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You take restaurant bookings.' }], tools: [{ type: 'end_call' }] },
  },
  deepgram: { utterances: turns.map(text) },
  openai: {
    replies: [
      { text: 'Certainly. A table for two tonight at eight, does that work?' },
      { text: 'We open at noon tomorrow. Anything else?' },
      { text: 'Thank you for calling, goodbye!', toolCalls: [{ name: 'end_call', arguments: {} }] },
    ],
    fallback: { text: 'The caller booked a table for two tonight and asked about opening hours.' },
  },
});
const caller = await TestCaller.start();
try {
  out(`Engine SIP on ${h.sipHost}:${h.sipPort}, admin API on ${h.apiUrl}`);
  out(`Calling ${h.number} ...`);
  const call = await caller.dial({ host: h.sipHost, port: h.sipPort, to: h.number });
  out(`Answered (${call.codec}) after ${call.setupMs.toFixed(0)} ms`);
  await call.waitForAgentSpeech({ timeoutMs: 15_000 });
  await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
  try {
    for (const file of turns) {
      const pcm = loadFixtureClip(file);
      await call.say(pcm.samples, pcm.sampleRate, { label: text(file) });
      await call.idle({ timeoutMs: 20_000 });
      await call.waitForAgentSpeech({ timeoutMs: 20_000, sinceMs: call.now() - 50 });
      await call.waitForAgentSilence({ silenceMs: 700, timeoutMs: 20_000 });
    }
  } catch (e) {
    // The agent says goodbye and hangs up (end_call) while we listen.
    if (!call.ended) throw e;
  }
  const end = await Promise.race([call.closed, new Promise<null>((r) => setTimeout(() => r(null), 8000))]);
  if (!end) await call.hangup();
  const listed = await h.waitForCall((c) => c.status === 'ended' || c.status === 'failed', 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const rec = (await h.api<Obj>('GET', `/calls/${encodeURIComponent(String(listed.id))}`)).body;

  out('\nConversation (the call record, GET /api/v1/calls/{id}):');
  for (const m of rec.messages as Obj[]) out(`  ${m.role === 'user' ? 'Caller' : m.role === 'assistant' ? 'Agent ' : 'System'}: ${m.content}`);
  out(`  -> ended: ${rec.end_reason}, ${rec.duration_seconds} s; summary: ${rec.summary}`);

  out('\nTimeline on the wire (test caller clock, ms since answer):');
  out(formatTimeline(call.timeline()).split('\n').map((l) => `  ${l}`).join('\n'));

  out('\nLatency per turn (ms). Engine clock; fake providers with stated delays: STT final +40 ms, LLM first token 120 ms, TTS first audio 80 ms:');
  out('  turn  endpointing  stt_final  llm_first_token  llm_first_sentence  tts_first_audio  engine_overhead  first_packet  wire(caller end -> agent start)');
  const wire = responseLatencies(call.timeline());
  (rec.latency?.turns as Obj[] | undefined ?? []).forEach((t, i) => {
    const f = (v: unknown): string => String(v ?? '-').padStart(5);
    out(`  ${f(t.turn)}  ${f(t.endpointing_ms)}        ${f(t.stt_final_ms)}      ${f(t.llm_first_token_ms)}            ${f(t.llm_first_sentence_ms)}               ${f(t.tts_first_audio_ms)}            ${f(t.engine_overhead_ms)}            ${f(t.first_packet_ms)}         ${f(wire[i]?.latencyMs)}`);
  });
  out(`  greeting: handed to the pacer ${rec.latency?.greeting_queued_ms ?? '-'} ms after the ACK`);
  if (stay) {
    out('\nThe sandbox engine keeps running (fake providers, real SIP/RTP on 127.0.0.1):');
    out(`  Admin API   ${h.apiUrl}   (docs: ${h.apiUrl}/docs)`);
    out(`  API key     ${h.key}`);
    out(`  SIP         ${h.sipHost}:${h.sipPort}, number ${h.number}`);
    out(`  try:        curl -s ${h.apiUrl}/calls -H "Authorization: Bearer ${h.key}"`);
    out('Ctrl-C to stop. `npm start` runs the engine itself (real providers via *_API_KEY).');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } else {
    out('\nDone. Run `npm start` for the engine itself; `npm run fakes` prints the environment that points it at these fakes.');
  }
} finally {
  await caller.close();
  await h.close();
}
