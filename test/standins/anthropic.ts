/**
 * A scripted stand-in for the Anthropic Messages API (`POST /v1/messages`, SSE), enough for the real Claude
 * Code CLI: each turn of the script answers one request with text and `tool_use` blocks, which the real CLI
 * executes (Write, Edit, Bash) before sending the next request with the `tool_result`.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendSse, startServer, type RecordedRequest, type Standin } from './http.js';

/** A content block the stand-in model "writes". */
export type AnthropicBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_use'; readonly name: string; readonly input: Record<string, unknown> };

/** One scripted reply. */
export type AnthropicReply =
  | {
      readonly kind: 'message';
      readonly content: readonly AnthropicBlock[];
      readonly usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
    }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'hang' };

/** Picks the reply to the `n`-th (0-based) messages request (a promise holds the answer back until it settles). */
export type AnthropicScript = (
  n: number,
  request: RecordedRequest,
) => AnthropicReply | Promise<AnthropicReply>;

const DEFAULT_USAGE = { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 };

/** Starts the stand-in. Only `/v1/messages` requests count as turns. */
export async function startAnthropicStandin(
  script: AnthropicScript,
): Promise<Standin & { turns: () => number }> {
  let turns = 0;
  const standin = await startServer(async (request, res) => {
    if (
      request.method !== 'POST' ||
      !request.url.startsWith('/v1/messages') ||
      request.url.includes('count_tokens')
    ) {
      sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'not here' } });
      return;
    }
    const n = turns++;
    const reply = await script(n, request);
    answer(res, reply, n + 1, request);
  });
  return { ...standin, turns: () => turns };
}

function answer(res: ServerResponse, reply: AnthropicReply, n: number, request: RecordedRequest): void {
  switch (reply.kind) {
    case 'hang':
      return; // never answers; the CLI waits until it is killed
    case 'error':
      sendJson(res, reply.status, {
        type: 'error',
        error: { type: 'invalid_request_error', message: reply.message },
      });
      return;
    case 'message': {
      const usage = { ...DEFAULT_USAGE, ...reply.usage };
      const body = request.body as { model?: string } | undefined;
      const model = body?.model ?? 'claude-sonnet-5-5';
      const events: { event: string; data: unknown }[] = [
        {
          event: 'message_start',
          data: {
            type: 'message_start',
            message: {
              id: `msg_standin_${n}`,
              type: 'message',
              role: 'assistant',
              model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: {
                input_tokens: usage.input,
                output_tokens: 1,
                cache_read_input_tokens: usage.cacheRead,
                cache_creation_input_tokens: usage.cacheWrite,
              },
            },
          },
        },
      ];
      const hasTool = reply.content.some((b) => b.type === 'tool_use');
      reply.content.forEach((block, index) => {
        if (block.type === 'text') {
          events.push({
            event: 'content_block_start',
            data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
          });
          events.push({
            event: 'content_block_delta',
            data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } },
          });
        } else {
          events.push({
            event: 'content_block_start',
            data: {
              type: 'content_block_start',
              index,
              content_block: {
                type: 'tool_use',
                id: `toolu_standin_${n}_${index}`,
                name: block.name,
                input: {},
              },
            },
          });
          events.push({
            event: 'content_block_delta',
            data: {
              type: 'content_block_delta',
              index,
              delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
            },
          });
        }
        events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
      });
      events.push({
        event: 'message_delta',
        data: {
          type: 'message_delta',
          delta: { stop_reason: hasTool ? 'tool_use' : 'end_turn', stop_sequence: null },
          usage: { output_tokens: usage.output },
        },
      });
      events.push({ event: 'message_stop', data: { type: 'message_stop' } });
      sendSse(res, events);
      return;
    }
  }
}
