import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/shared/errors.js';
import { loadAnthropicScript } from '../../../src/sim/vendors/anthropic/script.js';
import { startAnthropicServer, type AnthropicServer } from '../../../src/sim/vendors/anthropic/server.js';
import type { AnthropicScriptInput } from '../../../src/sim/vendors/anthropic/script.js';
import { tempDir } from '../../kit/tmp.js';

const API_KEY = 'sk-ant-sim-key';
const MODEL = 'claude-sonnet-5-5';
const DB_PASSWORD = 'hunter2-db-password';

const tools: Anthropic.Tool[] = [
  {
    name: 'get_metrics',
    description: 'Read a metric series',
    input_schema: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] },
  },
];

describe('scripted Anthropic Messages API with the real @anthropic-ai/sdk', () => {
  const servers: AnthropicServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function start(script: AnthropicScriptInput): Promise<AnthropicServer> {
    const server = await startAnthropicServer(script, { apiKey: API_KEY });
    servers.push(server);
    return server;
  }

  function client(
    server: AnthropicServer,
    options: { maxRetries?: number; timeout?: number } = {},
  ): Anthropic {
    return new Anthropic({
      apiKey: API_KEY,
      baseURL: server.url,
      maxRetries: options.maxRetries ?? 0,
      timeout: options.timeout ?? 5_000,
    });
  }

  it('plays a tool_use turn, then checks the tool_result and answers the final text', async () => {
    const server = await start({
      steps: [
        {
          name: 'ask for metrics',
          expect: { model: MODEL, tools: ['get_metrics'], notContaining: [DB_PASSWORD] },
          reply: {
            content: [
              { type: 'text', text: 'Let me look.' },
              { type: 'tool_use', id: 'toolu_01', name: 'get_metrics', input: { service: 'checkout' } },
            ],
            usage: { input_tokens: 812, output_tokens: 40 },
          },
        },
        {
          name: 'conclude',
          expect: { toolResultFor: 'toolu_01', notContaining: [DB_PASSWORD] },
          reply: { content: [{ type: 'text', text: 'checkout errors rose after the 3.1.0 deploy.' }] },
        },
      ],
    });
    const anthropic = client(server);
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Why is checkout failing? (the DB password is redacted)' },
    ];
    const first = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      system: 'You are an SRE.',
      messages,
      tools,
    });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.usage).toMatchObject({ input_tokens: 812, output_tokens: 40 });
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ id: 'toolu_01', name: 'get_metrics', input: { service: 'checkout' } });

    messages.push(
      { role: 'assistant', content: first.content },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'error rate 0.35 since 12:05' }],
      },
    );
    const second = await anthropic.messages.create({ model: MODEL, max_tokens: 1024, messages, tools });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'checkout errors rose after the 3.1.0 deploy.' }]);
    expect(second.usage.input_tokens).toBeGreaterThan(0);

    expect(server.mismatches).toEqual([]);
    expect(server.remaining()).toBe(0);
    expect(
      server.requests.map((request) => [
        request.path,
        request.auth,
        request.model,
        request.step,
        request.status,
      ]),
    ).toEqual([
      ['/v1/messages', 'bearer', MODEL, 0, 200],
      ['/v1/messages', 'bearer', MODEL, 1, 200],
    ]);
    expect(server.requests[0]?.system).toBe('You are an SRE.');
    expect(server.requests[0]?.tools).toEqual(tools);
    expect(server.requests.some((request) => request.rawBody.includes(DB_PASSWORD))).toBe(false);
  });

  it('answers 400 when a request breaks its step expectation, and records the mismatch', async () => {
    const server = await start({
      steps: [
        {
          name: 'needs result',
          expect: { toolResultFor: 'toolu_missing', notContaining: ['s3cr3t'] },
          reply: { content: [{ type: 'text', text: 'never' }] },
        },
      ],
    });
    const error = await client(server)
      .messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'the token is s3cr3t' }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(server.mismatches).toEqual([
      {
        step: 0,
        name: 'needs result',
        reasons: [
          'the last user message has no tool_result for toolu_missing',
          'the request contains a forbidden string',
        ],
      },
    ]);
  });

  it('returns 429 with retry-after, and the SDK retries into the next step', async () => {
    const server = await start({
      steps: [
        {
          error: {
            status: 429,
            retryAfter: 0.05,
            message: 'Number of request tokens has exceeded your per-minute rate limit',
          },
        },
        { reply: { content: [{ type: 'text', text: 'after the retry' }] } },
      ],
    });
    const started = Date.now();
    const reply = await client(server, { maxRetries: 2 }).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.content).toEqual([{ type: 'text', text: 'after the retry' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(server.requests.map((request) => request.status)).toEqual([429, 200]);

    server.load({ steps: [{ error: { status: 429 } }] });
    const limited = await client(server)
      .messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as { error?: unknown }).error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
    });
  });

  it('returns 529 overloaded_error as the SDK’s OverloadedError', async () => {
    const server = await start({ steps: [{ error: { status: 529 } }] });
    const error = await client(server)
      .messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it('makes the client time out with a delay longer than its timeout', async () => {
    const server = await start({
      steps: [
        { delayMs: 2_000, reply: { content: [{ type: 'text', text: 'too late' }] } },
        { reply: { content: [{ type: 'text', text: 'in time' }] } },
      ],
    });
    const started = Date.now();
    const error = await client(server, { timeout: 200 })
      .messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500);
    const retried = await client(server, { timeout: 200, maxRetries: 1 }).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(retried.content).toEqual([{ type: 'text', text: 'in time' }]);
  });

  it('accepts x-api-key too, refuses a wrong key, counts tokens, and refuses past the script', async () => {
    const server = await start({ steps: [] });
    const viaHeader = await fetch(`${server.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: {
        'x-api-key': API_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'count me please' }] }),
    });
    expect(viaHeader.headers.get('content-type')).toBe('application/json');
    expect(((await viaHeader.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    const counted = await client(server).messages.countTokens({
      model: MODEL,
      messages: [{ role: 'user', content: 'count me' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const wrong = new Anthropic({ apiKey: 'sk-wrong', baseURL: server.url, maxRetries: 0 });
    await expect(
      wrong.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const exhausted = await client(server, { maxRetries: 2 })
      .messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(exhausted).toBeInstanceOf(Anthropic.InternalServerError);
    expect(
      server.requests.filter((request) => request.path === '/v1/messages' && request.status === 500),
    ).toHaveLength(1);
    expect(server.requests.map((request) => request.auth)).toEqual([
      'x-api-key',
      'bearer',
      'bearer',
      'bearer',
    ]);
  });

  it('loads a YAML script file and refuses a broken one with file, field and reason', async () => {
    const dir = tempDir();
    const good = join(dir, 'planner.yaml');
    writeFileSync(
      good,
      [
        'steps:',
        '  - reply:',
        '      content:',
        '        - {type: tool_use, name: get_logs, input: {service: checkout}}',
        '  - error: {status: 529}',
        'onExhausted: repeat-last',
        '',
      ].join('\n'),
    );
    const script = await loadAnthropicScript(good);
    expect(script.steps).toHaveLength(2);
    expect(script.onExhausted).toBe('repeat-last');
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, ['steps:', '  - reply: {content: [{type: text}]}', ''].join('\n'));
    const error = await loadAnthropicScript(bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(bad);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(
      'steps.0.reply.content.0.text',
    );
    const both = join(dir, 'both.json');
    writeFileSync(
      both,
      JSON.stringify({
        steps: [{ reply: { content: [{ type: 'text', text: 'x' }] }, error: { status: 500 } }],
      }),
    );
    await expect(loadAnthropicScript(both)).rejects.toThrow(/exactly one of reply or error/);
  });
});
