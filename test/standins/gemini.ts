/**
 * A scripted stand-in for the Gemini API (`POST /v1beta/models/MODEL:streamGenerateContent?alt=sse`), enough
 * for the real Gemini CLI: replies carry text and `functionCall` parts (e.g. `write_file`) that the CLI runs.
 */
import { sendJson, sendSse, startServer, type RecordedRequest, type Standin } from './http.js';

export type GeminiPart =
  | { readonly text: string }
  | { readonly functionCall: { readonly name: string; readonly args: Record<string, unknown> } };

export type GeminiReply =
  | {
      readonly kind: 'content';
      readonly parts: readonly GeminiPart[];
      readonly usage?: { prompt: number; output: number };
    }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'hang' };

export type GeminiScript = (n: number, request: RecordedRequest) => GeminiReply;

/** Starts the stand-in; only `:streamGenerateContent` requests count as turns (others get an empty reply). */
export async function startGeminiStandin(script: GeminiScript): Promise<Standin & { turns: () => number }> {
  let turns = 0;
  const standin = await startServer((request, res) => {
    if (request.method !== 'POST' || !request.url.includes(':streamGenerateContent')) {
      sendJson(res, 404, { error: { code: 404, message: 'not here', status: 'NOT_FOUND' } });
      return;
    }
    const reply = script(turns++, request);
    if (reply.kind === 'hang') return;
    if (reply.kind === 'error') {
      sendJson(res, reply.status, {
        error: { code: reply.status, message: reply.message, status: 'INVALID_ARGUMENT' },
      });
      return;
    }
    const usage = { prompt: 1000, output: 100, ...reply.usage };
    sendSse(res, [
      {
        data: {
          candidates: [{ content: { role: 'model', parts: reply.parts }, finishReason: 'STOP', index: 0 }],
          usageMetadata: {
            promptTokenCount: usage.prompt,
            candidatesTokenCount: usage.output,
            totalTokenCount: usage.prompt + usage.output,
          },
        },
      },
    ]);
  });
  return { ...standin, turns: () => turns };
}
