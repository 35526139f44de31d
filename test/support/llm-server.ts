/* eslint-disable @typescript-eslint/no-explicit-any -- request bodies in four providers' wire formats, read as loosely as the providers do */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentRole } from '../../src/domain';
import { OfflineProvider } from '../../src/llm/offline-provider';

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** What the server answers: a text (with token counts) or an HTTP error. */
export type Answer =
  | { text: string; inputTokens?: number; outputTokens?: number; delayMs?: number }
  | { status: number; retryAfter?: string; body?: string };

/** The text of the prompt, whichever wire format carried it. */
export function promptOf(body: any): string {
  if (body.contents) return body.contents.map((c: any) => c.parts.map((p: any) => p.text).join('')).join('\n');
  return body.messages.map((m: any) => m.content).join('\n');
}

/** The system prompt, whichever wire format carried it. */
export function systemOf(body: any): string {
  if (body.systemInstruction) return body.systemInstruction.parts.map((p: any) => p.text).join('');
  return body.system ?? body.messages.find((m: any) => m.role === 'system')?.content ?? '';
}

/**
 * A local HTTP server speaking the wire formats of Anthropic (/v1/messages),
 * OpenAI (/v1/chat/completions), Gemini (/v1beta/models/*:generateContent)
 * and Ollama (/api/chat): the real clients talk to it as to the providers.
 */
export async function startLLMServer(answer: (request: SeenRequest) => Answer | Promise<Answer>) {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => void respond());
    const respond = async () => {
      const request = { path: req.url ?? '/', headers: req.headers, body: JSON.parse(raw || '{}') };
      seen.push(request);
      const a = await answer(request);
      if ('status' in a) {
        res.writeHead(a.status, {
          'content-type': 'application/json',
          ...(a.retryAfter && { 'retry-after': a.retryAfter }),
        });
        return res.end(a.body ?? JSON.stringify({ error: { message: `status ${a.status}` } }));
      }
      if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      const [input, output] = [a.inputTokens ?? 10, a.outputTokens ?? 20];
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(wireAnswer(request.path, request.body.model, a.text, input, output)));
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function wireAnswer(path: string, model: string, text: string, input: number, output: number) {
  if (path.startsWith('/v1/messages'))
    return {
      id: 'msg_1',
      type: 'message',
      model,
      content: [{ type: 'text', text }],
      usage: { input_tokens: input, output_tokens: output },
    };
  if (path.startsWith('/v1/chat/completions'))
    return {
      id: 'chatcmpl-1',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text } }],
      usage: { prompt_tokens: input, completion_tokens: output },
    };
  if (path.startsWith('/v1beta/models/'))
    return {
      candidates: [{ content: { parts: [{ text }] } }],
      usageMetadata: { promptTokenCount: input, candidatesTokenCount: output },
    };
  return { model, message: { role: 'assistant', content: text }, prompt_eval_count: input, eval_count: output };
}

/** The role an agent's system prompt speaks for ("You are the Code Reviewer." → code-reviewer). */
export function roleOf(body: any): AgentRole {
  const name = systemOf(body).match(/^You are (?:the |an? )?([A-Za-z ]+?)\./)?.[1] ?? '';
  return AgentRole.parse(name.toLowerCase().replace(/ /g, '-'));
}

/**
 * Answers as each role would, with the offline provider's artifacts, through
 * a real provider's wire format; `tweak` changes an answer (a verdict, a
 * delay, the tokens billed) for the case a test needs.
 */
export function roleAnswers(
  tweak: (role: AgentRole, prompt: string, answer: Answer & { text: string }) => Answer = (_r, _p, a) => a,
) {
  const offline = new OfflineProvider();
  return async (request: SeenRequest): Promise<Answer> => {
    const role = roleOf(request.body);
    const prompt = promptOf(request.body);
    const { text } = await offline.complete({
      role,
      prompt,
      system: systemOf(request.body),
      model: 'offline',
      maxTokens: 1000,
    });
    return tweak(role, prompt, { text });
  };
}
