/* eslint-disable @typescript-eslint/no-explicit-any -- request bodies in four providers' wire formats, read as loosely as the providers do */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentRole } from '../../src/domain';
import { offlineArtifact, offlineToolCall, roleOfSystemPrompt } from '../../src/llm/offline-model';

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export interface WireToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** What the server answers: a text or tool calls (with token counts), or an HTTP error. */
export type Answer =
  | { text: string; toolCalls?: WireToolCall[]; inputTokens?: number; outputTokens?: number; delayMs?: number }
  | { status: number; retryAfter?: string; body?: string };

const textOfContent = (content: any): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((p: any) => (p.type === 'text' ? p.text : '')).join('')
      : '';

/** The text of the user's prompt, whichever wire format carried it. */
export function promptOf(body: any): string {
  if (body.contents)
    return body.contents
      .filter((c: any) => c.role === 'user')
      .map((c: any) => c.parts.map((p: any) => p.text ?? '').join(''))
      .join('\n');
  return body.messages
    .filter((m: any) => m.role === 'user')
    .map((m: any) => textOfContent(m.content))
    .join('\n');
}

/** The system prompt, whichever wire format carried it. */
export function systemOf(body: any): string {
  if (body.systemInstruction) return body.systemInstruction.parts.map((p: any) => p.text).join('');
  if (body.system) return textOfContent(body.system);
  return textOfContent(body.messages.find((m: any) => m.role === 'system')?.content);
}

/** The tool results the request carries back to the model, whichever wire format carried them. */
export function toolResultsOf(body: any): { id?: string; name?: string; output: string }[] {
  if (body.contents)
    return body.contents.flatMap((c: any) =>
      c.parts
        .filter((p: any) => p.functionResponse)
        .map((p: any) => ({ name: p.functionResponse.name, output: JSON.stringify(p.functionResponse.response) })),
    );
  return body.messages.flatMap((m: any) => {
    if (m.role === 'tool') return [{ id: m.tool_call_id, output: textOfContent(m.content) }];
    if (!Array.isArray(m.content)) return [];
    return m.content
      .filter((p: any) => p.type === 'tool_result')
      .map((p: any) => ({
        id: p.tool_use_id,
        output: typeof p.content === 'string' ? p.content : JSON.stringify(p.content),
      }));
  });
}

/** How many times the model already called tools in this conversation, whichever wire format carried it. */
export function toolStepsOf(body: any): number {
  if (body.contents)
    return body.contents.filter((c: any) => c.role === 'model' && c.parts.some((p: any) => p.functionCall)).length;
  return body.messages.filter(
    (m: any) =>
      m.role === 'assistant' &&
      (m.tool_calls?.length || (Array.isArray(m.content) && m.content.some((p: any) => p.type === 'tool_use'))),
  ).length;
}

/** The names of the tools offered, whichever wire format carried them. */
export function toolNamesOf(body: any): string[] {
  if (body.tools?.[0]?.functionDeclarations) return body.tools[0].functionDeclarations.map((f: any) => f.name);
  return (body.tools ?? []).map((t: any) => t.name ?? t.function?.name);
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
      const usage = { input: a.inputTokens ?? 10, output: a.outputTokens ?? 20 };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(wireAnswer(request.path, request.body.model, a.text, a.toolCalls ?? [], usage)));
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function wireAnswer(
  path: string,
  model: string,
  text: string,
  calls: WireToolCall[],
  { input, output }: { input: number; output: number },
) {
  if (path.startsWith('/v1/messages'))
    return {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content: [
        ...(text ? [{ type: 'text', text }] : []),
        ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.input })),
      ],
      stop_reason: calls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: output },
    };
  if (path.startsWith('/v1/chat/completions'))
    return {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: text || null,
            ...(calls.length && {
              tool_calls: calls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.input) },
              })),
            }),
          },
          finish_reason: calls.length ? 'tool_calls' : 'stop',
        },
      ],
      usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
    };
  if (path.startsWith('/v1beta/models/'))
    return {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              ...(text ? [{ text }] : []),
              ...calls.map((c) => ({ functionCall: { name: c.name, args: c.input } })),
            ],
          },
          finishReason: 'STOP',
        },
      ],
      usageMetadata: { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output },
    };
  return {
    model,
    created_at: new Date(0).toISOString(),
    message: {
      role: 'assistant',
      content: text,
      ...(calls.length && { tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.input } })) }),
    },
    done: true,
    done_reason: 'stop',
    prompt_eval_count: input,
    eval_count: output,
  };
}

/** The role an agent's system prompt speaks for ("You are the Code Reviewer." → code-reviewer). */
export function roleOf(body: any): AgentRole {
  const role = roleOfSystemPrompt(systemOf(body));
  if (!role) throw new Error(`no role in the system prompt: ${systemOf(body).slice(0, 80)}`);
  return role;
}

/**
 * Answers as each role would, with the offline model's artifacts and tool
 * calls, through a real provider's wire format; `tweak` changes an answer (a
 * verdict, a delay, the tokens billed) for the case a test needs.
 */
export function roleAnswers(
  tweak: (role: AgentRole, prompt: string, answer: Answer & { text: string }) => Answer = (_r, _p, a) => a,
) {
  return (request: SeenRequest): Answer => {
    const role = roleOf(request.body);
    const prompt = promptOf(request.body);
    const steps = toolStepsOf(request.body);
    const call = offlineToolCall(role, prompt, toolNamesOf(request.body), steps);
    if (call) return tweak(role, prompt, { text: '', toolCalls: [{ id: `call_${steps + 1}`, ...call }] });
    return tweak(role, prompt, { text: offlineArtifact(role, prompt) });
  };
}
