/** A customer webhook server for e2e tests: records every event and checks its signature. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../engine/webhooks/index.js';

export interface ReceivedEvent {
  type: string;
  headers: IncomingMessage['headers'];
  body: Record<string, any>;
  signatureOk: boolean;
}

export interface WebhookReceiver {
  url: string;
  events: ReceivedEvent[];
  /** Answers for tool-calls, by function name. */
  toolResults: Map<string, unknown>;
  /** The body answered to assistant-request (default `{}`). */
  assistantResponse: unknown;
  waitFor(pred: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string | null): Promise<WebhookReceiver> {
  const events: ReceivedEvent[] = [];
  const toolResults = new Map<string, unknown>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString('utf8')) as Record<string, any>;
      const sig = req.headers['x-webhook-signature'];
      const ts = req.headers['x-webhook-timestamp'];
      const signatureOk = secret === null
        ? sig === undefined
        : typeof sig === 'string' && typeof ts === 'string' && verifySignature({ secret, rawBody: raw, signature: sig, timestamp: ts }).ok;
      const type = String(body.message?.type);
      events.push({ type, headers: req.headers, body, signatureOk });
      res.setHeader('content-type', 'application/json');
      if (type === 'assistant-request') {
        res.end(JSON.stringify(self.assistantResponse ?? {}));
        return;
      }
      if (type === 'tool-calls') {
        const results = (body.message.tool_call_list as { id: string; function: { name: string; arguments: unknown } }[])
          .map((c) => ({ tool_call_id: c.id, result: toolResults.get(c.function.name) ?? { ok: true, echo: c.function.arguments } }));
        res.end(JSON.stringify({ results }));
        return;
      }
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const self: WebhookReceiver = {
    url, events, toolResults, assistantResponse: {},
    async waitFor(pred, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const e = events.find(pred);
        if (e) return e;
        if (Date.now() > end) throw new Error(`webhook receiver: no matching event in ${timeoutMs} ms; got ${events.map((x) => x.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  return self;
}
