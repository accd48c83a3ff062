/**
 * A scripted stand-in for the OpenAI Responses API (`POST /v1/responses`, SSE), enough for the real Codex CLI:
 * replies carry `message`, `function_call` or `custom_tool_call` items (e.g. freeform `apply_patch`) that the
 * real CLI executes before posting the whole history again.
 */
import { sendJson, sendSse, startServer, type RecordedRequest, type Standin } from './http.js';

/** An output item the stand-in model produces. */
export type ResponsesItem =
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'function_call'; readonly name: string; readonly arguments: Record<string, unknown> }
  | { readonly type: 'custom_tool_call'; readonly name: string; readonly input: string };

/** One scripted reply. */
export type ResponsesReply =
  | {
      readonly kind: 'response';
      readonly items: readonly ResponsesItem[];
      readonly usage?: { input: number; cached?: number; output: number; reasoning?: number };
    }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'hang' };

export type ResponsesScript = (n: number, request: RecordedRequest) => ResponsesReply;

/** Starts the stand-in; only `/v1/responses` POSTs count as turns. */
export async function startOpenAIStandin(
  script: ResponsesScript,
): Promise<Standin & { turns: () => number }> {
  let turns = 0;
  const standin = await startServer((request, res) => {
    if (request.method !== 'POST' || !request.url.startsWith('/v1/responses')) {
      sendJson(res, 404, { error: { message: 'not here' } });
      return;
    }
    const n = turns++;
    const reply = script(n, request);
    if (reply.kind === 'hang') return;
    if (reply.kind === 'error') {
      sendJson(res, reply.status, {
        error: { message: reply.message, type: 'invalid_request_error', code: null },
      });
      return;
    }
    const id = `resp_standin_${n}`;
    const usage = { input: 1000, cached: 0, output: 100, reasoning: 0, ...reply.usage };
    const events: { event: string; data: unknown }[] = [
      { event: 'response.created', data: { type: 'response.created', response: { id } } },
    ];
    reply.items.forEach((item, index) => {
      const full = toItem(item, `${id}_${index}`);
      events.push({
        event: 'response.output_item.added',
        data: { type: 'response.output_item.added', output_index: index, item: full },
      });
      events.push({
        event: 'response.output_item.done',
        data: { type: 'response.output_item.done', output_index: index, item: full },
      });
    });
    events.push({
      event: 'response.completed',
      data: {
        type: 'response.completed',
        response: {
          id,
          usage: {
            input_tokens: usage.input,
            input_tokens_details: { cached_tokens: usage.cached },
            output_tokens: usage.output,
            output_tokens_details: { reasoning_tokens: usage.reasoning },
            total_tokens: usage.input + usage.output,
          },
        },
      },
    });
    sendSse(res, events);
  });
  return { ...standin, turns: () => turns };
}

function toItem(item: ResponsesItem, id: string): Record<string, unknown> {
  switch (item.type) {
    case 'message':
      return {
        type: 'message',
        id,
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: item.text, annotations: [] }],
      };
    case 'function_call':
      return {
        type: 'function_call',
        id,
        call_id: `call_${id}`,
        name: item.name,
        arguments: JSON.stringify(item.arguments),
        status: 'completed',
      };
    case 'custom_tool_call':
      return {
        type: 'custom_tool_call',
        id,
        call_id: `call_${id}`,
        name: item.name,
        input: item.input,
        status: 'completed',
      };
  }
}

/** A freeform `apply_patch` input that adds a file. */
export function addFilePatch(path: string, content: string): string {
  const lines = content
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `+${l}`);
  return ['*** Begin Patch', `*** Add File: ${path}`, ...lines, '*** End Patch'].join('\n');
}
