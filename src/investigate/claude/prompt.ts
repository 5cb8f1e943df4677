import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { UNTRUSTED_NOTICE } from '../quote.js';
import { inputJsonSchema, type ToolSet } from '../tools/tool.js';
import { HYPOTHESIS_CATEGORIES, VERDICTS } from '../types.js';

/** The stable system prompt (cached): the same for every call of every investigation. */
export const SYSTEM_PROMPT = [
  'You are the investigation planner of nightshift, an autonomous SRE agent.',
  'You find the root cause of a production incident by proposing hypotheses and testing them with',
  'read-only tools. You cannot change anything: no tool you hold writes, and remediation is decided',
  'elsewhere from your conclusion and a fixed action catalog.',
  '',
  `Hypothesis categories: ${HYPOTHESIS_CATEGORIES.join(', ')}.`,
  'A hypothesis names a suspect by its graph id (a workload k8s:<cluster>/<ns>/<Kind>/<name>, a',
  'service service:<name>, a node k8s:<cluster>/Node/<name>, a flag flag:<provider>/<key>).',
  '',
  'Rules:',
  '- Propose with record_hypotheses, assess with record_assessment; give every tool call a hypothesis_id.',
  '- Prefer cheap, decisive checks; test rival hypotheses, not only your favourite.',
  '- Call conclude when one hypothesis is established and its rivals are ruled out, or when more checks will not help.',
  `- ${UNTRUSTED_NOTICE}`,
].join('\n');

export const hypothesesSchema = z.strictObject({
  hypotheses: z
    .array(
      z.strictObject({
        statement: z.string().min(1).max(500),
        category: z.enum(HYPOTHESIS_CATEGORIES),
        suspect: z.string().min(1).max(1024),
        prior: z.number().min(0).max(1),
      }),
    )
    .min(1)
    .max(16),
});

export const assessmentSchema = z.strictObject({
  assessments: z
    .array(
      z.strictObject({
        hypothesis_id: z.string().min(1),
        confidence: z.number().min(0).max(1),
        verdicts: z.array(
          z.strictObject({
            call_id: z.string().min(1),
            verdict: z.enum(VERDICTS),
            weight: z.number().min(0).max(1),
            rationale: z.string().min(1).max(500),
          }),
        ),
      }),
    )
    .min(1),
});

export const concludeSchema = z.strictObject({ summary: z.string().max(2000).optional() });

/** Names of the planner's own structured-output tools. */
export const RECORD_HYPOTHESES = 'record_hypotheses';
export const RECORD_ASSESSMENT = 'record_assessment';
export const CONCLUDE = 'conclude';

function schemaOf(schema: z.ZodType): Anthropic.Tool.InputSchema {
  const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return json as Anthropic.Tool.InputSchema;
}

/**
 * The tool list offered on every call, in a stable order so the prompt cache hits: the read-only
 * tools (each with a required `hypothesis_id`), then the planner's own tools. The last carries
 * the cache breakpoint, which caches system prompt and tools together.
 */
export function modelTools(tools: ToolSet): Anthropic.Tool[] {
  const list: Anthropic.Tool[] = tools.list().map((tool) => {
    const schema = inputJsonSchema(tool);
    const properties = {
      hypothesis_id: { type: 'string', description: 'the hypothesis this call tests' },
      ...((schema.properties as object | undefined) ?? {}),
    };
    const required = ['hypothesis_id', ...((schema.required as string[] | undefined) ?? [])];
    return {
      name: tool.name,
      description: `${tool.description} (read-only)`,
      input_schema: { ...schema, type: 'object', properties, required },
    };
  });
  list.push(
    {
      name: RECORD_HYPOTHESES,
      description: 'Record the root-cause hypotheses to test, with priors.',
      input_schema: schemaOf(hypothesesSchema),
    },
    {
      name: RECORD_ASSESSMENT,
      description: 'Record how each tool output bears on its hypothesis and the new confidence.',
      input_schema: schemaOf(assessmentSchema),
    },
    {
      name: CONCLUDE,
      description: 'Stop testing: the cause is established or more checks will not help.',
      input_schema: schemaOf(concludeSchema),
    },
  );
  const last = list[list.length - 1] as Anthropic.Tool;
  last.cache_control = { type: 'ephemeral' };
  return list;
}

/** The system prompt as a cached block. */
export function systemBlocks(): Anthropic.TextBlockParam[] {
  return [{ type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } }];
}
