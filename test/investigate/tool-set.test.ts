import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../src/shared/errors.js';
import { boundOutput, sample } from '../../src/investigate/tools/bound.js';
import {
  createToolSet,
  defineTool,
  inputJsonSchema,
  type ReadOnlyTool,
} from '../../src/investigate/tools/tool.js';

const context = () => ({ signal: new AbortController().signal, now: Date.UTC(2026, 2, 2) });

const echo = defineTool({
  name: 'echo',
  description: 'echoes',
  input: z.strictObject({ text: z.string().max(100_000), count: z.number().int().default(1) }),
  outputBudgetChars: 500,
  run: (input) =>
    Promise.resolve({
      status: 'ok' as const,
      summary: `echo ${input.text}`,
      data: { lines: Array.from({ length: input.count }, (_, index) => `${index}:${input.text}`) },
    }),
});

describe('ToolSet', () => {
  it('refuses a tool that is not declared read-only, a bad name and a duplicate', () => {
    const writer = { ...echo, name: 'k8s_delete', readOnly: false } as unknown as ReadOnlyTool;
    expect(() => createToolSet([echo, writer])).toThrow(ValidationError);
    expect(() => createToolSet([echo, writer])).toThrow(/k8s_delete: is not declared readOnly: true/);
    const undeclared = {
      name: 'sneaky',
      description: '',
      input: z.object({}),
      run: (input: never) => echo.run(input, context()),
    } as unknown as ReadOnlyTool;
    expect(() => createToolSet([undeclared])).toThrow(/sneaky/);
    expect(() => createToolSet([{ ...echo, name: 'has space' }])).toThrow(/1–64 letters/);
    expect(() => createToolSet([echo, echo])).toThrow(/registered twice/);
    expect(createToolSet([echo]).names).toEqual(['echo']);
  });

  it('answers bad input, a failing tool and a timeout as error results, never throws', async () => {
    const failing = defineTool({
      name: 'boom',
      description: '',
      input: z.object({}),
      run: () => Promise.reject(new Error('backend down')),
    });
    const slow = defineTool({
      name: 'slow',
      description: '',
      input: z.object({}),
      run: () => new Promise<never>(() => undefined),
    });
    const tools = createToolSet([echo, failing, slow], { callTimeoutMs: 50 });
    const invalid = (await tools.call('echo', { text: 5 }, context())).result;
    expect(invalid.status).toBe('error');
    expect(invalid.summary).toContain('text:');
    expect((await tools.call('missing', {}, context())).result.summary).toContain('no tool named missing');
    expect((await tools.call('boom', {}, context())).result).toEqual({
      status: 'error',
      summary: 'boom failed: backend down',
    });
    expect((await tools.call('slow', {}, context())).result.summary).toContain('timed out after 50 ms');
  });

  it('scrubs secrets and bounds large outputs by sampling, keeping first and last', async () => {
    const tools = createToolSet([echo]);
    const secret = await tools.call('echo', { text: 'login password=Hunter2-Secret-Value' }, context());
    expect(JSON.stringify(secret)).not.toContain('Hunter2-Secret-Value');
    const big = await tools.call('echo', { text: 'x'.repeat(40), count: 1000 }, context());
    expect(big.result.truncated).toBe(true);
    expect(JSON.stringify(big.result.data).length).toBeLessThanOrEqual(500);
    const lines = (big.result.data as { lines: string[] }).lines;
    expect(lines[0]).toMatch(/^0:/);
    expect(lines.at(-1)).toMatch(/more of 1000/);
    expect(sample([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toEqual([1, 5, 9]);
    const huge = boundOutput(
      { status: 'ok', summary: 's'.repeat(5000), data: { blob: 'y'.repeat(10_000) } },
      5,
    );
    expect(huge.summary.length).toBeLessThanOrEqual(700);
    expect(huge.data).toBeUndefined();
  });

  it('describes inputs as JSON schema for a model', () => {
    expect(inputJsonSchema(echo)).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    });
  });
});

describe('createInvestigationTools', () => {
  it('takes extra read-only tools and refuses one that is not', async () => {
    const { createInvestigationTools } = await import('../../src/investigate/tools/index.js');
    const graph = { neighbors: () => Promise.resolve([]) } as never;
    const tools = createInvestigationTools({ graph, extraTools: [echo] });
    expect(tools.names).toEqual([
      'graph_neighbors',
      'graph_blast_radius',
      'graph_recent_changes',
      'graph_explain_path',
      'echo',
    ]);
    const writer = { ...echo, name: 'mcp_restart', readOnly: undefined } as unknown as ReadOnlyTool;
    expect(() => createInvestigationTools({ graph, extraTools: [writer] })).toThrow(
      /mcp_restart: is not declared readOnly/,
    );
  });
});
