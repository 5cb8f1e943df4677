import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../../../shared/clock.js';
import { listen, type ListenOptions } from '../http/loopback.js';
import { bearerToken, parseJson, readText, requestUrl, sendJson } from '../http/messages.js';
import type { VendorRequestLog } from '../source.js';
import { unmetExpectations, type MessagesRequest } from './expectations.js';
import {
  parseAnthropicScript,
  type AnthropicScript,
  type AnthropicScriptInput,
  type ScriptStep,
} from './script.js';

/** Options of the scripted Messages API server. */
export interface AnthropicServerOptions extends ListenOptions {
  /** The API key to accept (as `authorization: Bearer` or `x-api-key`); any non-empty key when absent. */
  apiKey?: string;
  /** Where to report requests (the world's request log), if anywhere. */
  requestLog?: VendorRequestLog;
}

/** One request the server received. */
export interface AnthropicRequestRecord {
  path: string;
  /** How the key arrived. */
  auth: 'bearer' | 'x-api-key' | 'none';
  model?: unknown;
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
  maxTokens?: unknown;
  /** The whole body as parsed JSON. */
  body: unknown;
  /** The raw body text, for searches such as "no secret was sent". */
  rawBody: string;
  /** Index of the script step that answered, for /v1/messages. */
  step?: number;
  /** The status sent (0 when the client went away first). */
  status: number;
}

/** A request that did not meet its step's expectation. */
export interface AnthropicMismatch {
  step: number;
  name?: string;
  reasons: string[];
}

/** A running scripted Messages API; `stop()` is safe to call twice. */
export interface AnthropicServer {
  url: string;
  readonly requests: readonly AnthropicRequestRecord[];
  readonly mismatches: readonly AnthropicMismatch[];
  /** Steps not yet answered. */
  remaining(): number;
  /** Replaces the script and starts again from its first step. */
  load(script: AnthropicScriptInput): void;
  stop(): Promise<void>;
}

const DEFAULT_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

function estimateTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

function apiError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { type: 'error', error: { type, message } }, headers);
}

function replyBody(step: ScriptStep, index: number, request: MessagesRequest): Record<string, unknown> {
  const reply = step.reply;
  if (!reply) throw new Error('step has no reply');
  const content = reply.content.map((block, position) =>
    block.type === 'tool_use' ? { ...block, id: block.id ?? `toolu_sim_${index}_${position}` } : block,
  );
  const hasToolUse = content.some((block) => block.type === 'tool_use');
  return {
    id: `msg_sim_${String(index).padStart(4, '0')}`,
    type: 'message',
    role: 'assistant',
    model: reply.model ?? (typeof request.model === 'string' ? request.model : 'claude-sim'),
    content,
    stop_reason: reply.stop_reason ?? (hasToolUse ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage: {
      input_tokens:
        reply.usage?.input_tokens ?? estimateTokens([request.system, request.messages, request.tools]),
      output_tokens: reply.usage?.output_tokens ?? estimateTokens(content),
      cache_creation_input_tokens: reply.usage?.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
      service_tier: 'standard',
    },
  };
}

/**
 * Starts a Messages API that answers `POST /v1/messages` from a script, one step per request
 * (see docs/sim.md, "Anthropic script"), and `POST /v1/messages/count_tokens` with an
 * estimate. Records every request. Streaming is refused with a 400.
 */
export async function startAnthropicServer(
  script: AnthropicScriptInput,
  options: AnthropicServerOptions = {},
): Promise<AnthropicServer> {
  let current: AnthropicScript = parseAnthropicScript(script);
  let next = 0;
  const requests: AnthropicRequestRecord[] = [];
  const mismatches: AnthropicMismatch[] = [];
  const stopping = new AbortController();

  function authenticate(request: IncomingMessage): { ok: boolean; via: AnthropicRequestRecord['auth'] } {
    const bearer = bearerToken(request);
    const header = request.headers['x-api-key'];
    const key = bearer ?? (typeof header === 'string' ? header : undefined);
    const via = bearer ? 'bearer' : key ? 'x-api-key' : 'none';
    return {
      ok: key !== undefined && key !== '' && (options.apiKey === undefined || key === options.apiKey),
      via,
    };
  }

  function takeStep(): { step: ScriptStep; index: number } | undefined {
    const index = next;
    const step = current.steps[index];
    if (step) {
      next++;
      return { step, index };
    }
    const last = current.steps[current.steps.length - 1];
    return current.onExhausted === 'repeat-last' && last
      ? { step: last, index: current.steps.length - 1 }
      : undefined;
  }

  async function messages(
    response: ServerResponse,
    record: AnthropicRequestRecord,
    body: MessagesRequest & { stream?: unknown; max_tokens?: unknown },
  ): Promise<void> {
    if (body.stream === true)
      return apiError(
        response,
        400,
        'invalid_request_error',
        'stream: the simulated API does not stream; send stream: false',
      );
    if (
      typeof body.model !== 'string' ||
      !Array.isArray(body.messages) ||
      typeof body.max_tokens !== 'number'
    ) {
      return apiError(response, 400, 'invalid_request_error', 'model, max_tokens and messages are required');
    }
    const taken = takeStep();
    if (!taken)
      return apiError(response, 500, 'api_error', `the script has no step ${next + 1}`, {
        'x-should-retry': 'false',
      });
    const { step, index } = taken;
    record.step = index;
    const reasons = unmetExpectations(step.expect, body, record.rawBody);
    if (reasons.length > 0) {
      mismatches.push({ step: index, ...(step.name ? { name: step.name } : {}), reasons });
      return apiError(
        response,
        400,
        'invalid_request_error',
        `script step ${index + 1}${step.name ? ` (${step.name})` : ''}: ${reasons.join('; ')}`,
        { 'x-should-retry': 'false' },
      );
    }
    if (step.delayMs) {
      const gone = new AbortController();
      response.once('close', () => gone.abort());
      try {
        await sleep(step.delayMs, AbortSignal.any([gone.signal, stopping.signal]));
      } catch {
        return;
      }
    }
    if (step.error) {
      const headers: Record<string, string> = {};
      if (step.error.retryAfter !== undefined) headers['retry-after'] = String(step.error.retryAfter);
      if (step.error.shouldRetry !== undefined) headers['x-should-retry'] = String(step.error.shouldRetry);
      const type = step.error.type ?? DEFAULT_ERROR_TYPES[step.error.status] ?? 'api_error';
      return apiError(response, step.error.status, type, step.error.message ?? `scripted ${type}`, headers);
    }
    sendJson(response, 200, replyBody(step, index, body));
  }

  const server = await listen(
    async (request, response) => {
      const url = requestUrl(request);
      const rawBody = request.method === 'POST' ? await readText(request) : '';
      const body = parseJson(rawBody);
      const auth = authenticate(request);
      const fields = (typeof body === 'object' && body !== null ? body : {}) as MessagesRequest & {
        max_tokens?: unknown;
      };
      const record: AnthropicRequestRecord = {
        path: url.pathname,
        auth: auth.via,
        model: fields.model,
        system: fields.system,
        messages: fields.messages,
        tools: fields.tools,
        maxTokens: fields.max_tokens,
        body,
        rawBody,
        status: 0,
      };
      requests.push(record);
      response.setHeader('request-id', `req_sim_${String(requests.length).padStart(6, '0')}`);
      response.once('finish', () => (record.status = response.statusCode));
      if (!auth.ok)
        return apiError(
          response,
          401,
          'authentication_error',
          auth.via === 'none' ? 'x-api-key header is required' : 'invalid x-api-key',
        );
      if (
        request.method !== 'POST' ||
        (url.pathname !== '/v1/messages' && url.pathname !== '/v1/messages/count_tokens')
      )
        return apiError(response, 404, 'not_found_error', `Not found: ${url.pathname}`);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return apiError(response, 400, 'invalid_request_error', 'the body is not a JSON object');
      if (url.pathname === '/v1/messages/count_tokens')
        return sendJson(response, 200, {
          input_tokens: estimateTokens([fields.system, fields.messages, fields.tools]),
        });
      return messages(response, record, body);
    },
    options,
    { server: 'anthropic', log: options.requestLog },
  );

  return {
    url: server.url,
    requests,
    mismatches,
    remaining: () => current.steps.length - next,
    load(script) {
      current = parseAnthropicScript(script);
      next = 0;
    },
    async stop() {
      stopping.abort();
      await server.close();
    },
  };
}
