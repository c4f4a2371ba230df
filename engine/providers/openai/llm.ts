// OpenAI-compatible chat completions, streamed, through the official `openai` SDK (6.x).
// Docs: https://platform.openai.com/docs/api-reference/chat/create
//       https://platform.openai.com/docs/api-reference/chat-streaming
// The same client serves `openai`, `xai` (https://docs.x.ai/docs/api-reference#chat-completions)
// and `mistral` (https://docs.mistral.ai/api/#tag/chat) through their base URLs, and, with a base
// URL override, self-hosted OpenAI-compatible servers (vLLM, Ollama, llama.cpp server).
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { ProviderError, errorFromStatus } from '../errors.js';
import type { ProviderName } from '../errors.js';
import type { LlmEvent, LlmMessage, LlmProvider, LlmRequest, LlmToolCall } from '../llm.js';

export type OpenAiCompatibleVendor = 'openai' | 'xai' | 'mistral';

export const DEFAULT_BASE_URLS: Record<OpenAiCompatibleVendor, string> = {
  openai: 'https://api.openai.com/v1',
  xai: 'https://api.x.ai/v1',
  mistral: 'https://api.mistral.ai/v1',
};

export interface OpenAiCompatibleOptions {
  apiKey: string;
  /** Defaults to the vendor's public endpoint; set it for a fake or a self-hosted server. */
  baseUrl?: string;
}

function toWireMessage(m: LlmMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system': return { role: 'system', content: m.content };
    case 'user': return { role: 'user', content: m.content };
    case 'tool': return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return m.toolCalls && m.toolCalls.length > 0
        ? { role: 'assistant', content: m.content, tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) }
        : { role: 'assistant', content: m.content ?? '' };
  }
}

const FINISH: Record<string, 'stop' | 'length' | 'tool_calls' | 'content_filter'> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter' };

export class OpenAiCompatibleLlm implements LlmProvider {
  readonly provider: OpenAiCompatibleVendor;
  readonly #client: OpenAI;

  constructor(vendor: OpenAiCompatibleVendor, opts: OpenAiCompatibleOptions) {
    this.provider = vendor;
    // Retries belong to the caller (withRetry / fallback), timeouts to complete().
    this.#client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseUrl ?? DEFAULT_BASE_URLS[vendor], maxRetries: 0, timeout: 600_000 });
  }

  #params(req: LlmRequest): ChatCompletionCreateParamsStreaming {
    const p: ChatCompletionCreateParamsStreaming = { model: req.model, messages: req.messages.map(toWireMessage), stream: true };
    if (req.temperature !== undefined) p.temperature = req.temperature;
    if (req.maxCompletionTokens !== undefined) {
      // Mistral names it max_tokens; OpenAI deprecated max_tokens in favour of max_completion_tokens.
      if (this.provider === 'mistral') p.max_tokens = req.maxCompletionTokens;
      else p.max_completion_tokens = req.maxCompletionTokens;
    }
    if (req.tools && req.tools.length > 0) {
      p.tools = req.tools.map((t): ChatCompletionTool => ({
        type: 'function',
        function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} } },
      }));
    }
    // Mistral streams usage in the last chunk on its own and rejects unknown fields.
    if (this.provider !== 'mistral') p.stream_options = { include_usage: true };
    return p;
  }

  async *complete(req: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmEvent> {
    const provider: ProviderName = this.provider;
    if (signal?.aborted) throw new ProviderError({ provider, code: 'aborted', message: `${provider}: aborted` });
    const ac = new AbortController();
    let timedOut: 'first' | 'idle' | undefined;
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const firstMs = req.firstTokenTimeoutMs ?? 15_000;
    const idleMs = req.idleTimeoutMs ?? 15_000;
    let timer = setTimeout(() => { timedOut = 'first'; ac.abort(); }, firstMs);
    const rearm = (): void => { clearTimeout(timer); timer = setTimeout(() => { timedOut = 'idle'; ac.abort(); }, idleMs); };

    const calls = new Map<number, { id: string; name: string; args: string }>();
    let finish: string | undefined;
    const mapErr = (err: unknown): ProviderError => {
      if (err instanceof ProviderError) return err;
      if (timedOut) return new ProviderError({ provider, code: 'timeout', message: `${provider}: ${timedOut === 'first' ? `no first token within ${firstMs}` : `stream idle for ${idleMs}`} ms`, cause: err });
      if (signal?.aborted) return new ProviderError({ provider, code: 'aborted', message: `${provider}: aborted`, cause: err });
      if (err instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError({ provider, code: 'timeout', message: `${provider}: request timed out`, cause: err });
      if (err instanceof OpenAI.APIError && typeof err.status === 'number') return errorFromStatus(provider, err.status, `${provider}: ${err.message}`, err);
      if (err instanceof OpenAI.APIUserAbortError) return new ProviderError({ provider, code: 'aborted', message: `${provider}: aborted`, cause: err });
      // Connection refused/reset, or the body ended abruptly mid-stream.
      return new ProviderError({ provider, code: 'network', message: `${provider}: ${err instanceof Error ? err.message : String(err)}`, cause: err });
    };

    try {
      let stream: AsyncIterable<ChatCompletionChunk>;
      try {
        stream = await this.#client.chat.completions.create(this.#params(req), { signal: ac.signal });
      } catch (err) { throw mapErr(err); }
      try {
        for await (const chunk of stream) {
          rearm();
          if (chunk.usage) {
            yield { type: 'usage', usage: { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens, totalTokens: chunk.usage.total_tokens } };
          }
          const choice = chunk.choices?.[0];
          if (!choice) continue;
          const d = choice.delta;
          if (d?.content) yield { type: 'text', delta: d.content };
          for (const tc of d?.tool_calls ?? []) {
            let c = calls.get(tc.index);
            if (!c) { c = { id: '', name: '', args: '' }; calls.set(tc.index, c); }
            if (tc.id) c.id = tc.id;
            if (tc.function?.name) c.name += tc.function.name;
            if (tc.function?.arguments) c.args += tc.function.arguments;
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      } catch (err) { throw mapErr(err); }
      if (ac.signal.aborted) throw mapErr(new Error('aborted'));
      if (finish === undefined) throw new ProviderError({ provider, code: 'network', message: `${provider}: stream ended without a finish reason` });
      for (const [, c] of [...calls.entries()].sort((a, b) => a[0] - b[0])) {
        if (!c.name) throw new ProviderError({ provider, code: 'protocol', message: `${provider}: tool call without a name` });
        const call: LlmToolCall = { id: c.id || `call_${c.name}`, name: c.name, arguments: c.args || '{}' };
        yield { type: 'tool-call', call };
      }
      yield { type: 'done', finishReason: FINISH[finish] ?? 'other' };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      ac.abort(); // releases the HTTP stream if the consumer stopped early
    }
  }
}
