import Anthropic from '@anthropic-ai/sdk';
import type { z } from 'zod';
import { describeError, toIssues } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { BudgetRemaining } from '../budget.js';
import type { InvestigationContext } from '../context.js';
import {
  standardStop,
  type Assessment,
  type CheckOutcome,
  type PlannedCheck,
  type Planner,
  type PlannerRun,
  type PlannerRunOptions,
  type StopDecision,
} from '../planner.js';
import { quoteForModel } from '../quote.js';
import { createRulesPlanner, type RulesPlannerOptions, type RulesRun } from '../rules/planner.js';
import type { ToolSet } from '../tools/tool.js';
import type { HypothesisDraft } from '../tree.js';
import type { Hypothesis, TokenUsage } from '../types.js';
import {
  assessmentSchema,
  CONCLUDE,
  hypothesesSchema,
  modelTools,
  RECORD_ASSESSMENT,
  RECORD_HYPOTHESES,
  systemBlocks,
} from './prompt.js';

/** Options of the Claude planner. */
export interface ClaudePlannerOptions {
  /** A ready client; otherwise one is built from `apiKey` and `baseUrl`. */
  client?: Anthropic;
  apiKey?: string;
  baseUrl?: string;
  /** Model for proposing hypotheses and assessing outputs (`integrations.anthropic.fastModel`). */
  fastModel: string;
  /** Model for choosing checks in the multi-turn investigation (`integrations.anthropic.deepModel`). */
  deepModel: string;
  /** Retries of 408/409/429/5xx and timeouts, with the SDK's exponential backoff (honouring retry-after); default 2. */
  maxRetries?: number;
  /** Per-request timeout, ms; default 60 s. */
  timeoutMs?: number;
  /** `max_tokens` of each reply; default 2048. */
  maxOutputTokens?: number;
  /** Options of the rules planner that takes over on failure. */
  rules?: RulesPlannerOptions;
}

class ModelUnavailable extends Error {}
class InvalidOutput extends Error {}

function issuesText(error: z.ZodError): string {
  return toIssues(error.issues)
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
}

function describeApiFailure(error: unknown, retries: number): string {
  if (error instanceof Anthropic.APIConnectionTimeoutError)
    return `the model timed out (after ${retries + 1} attempt(s))`;
  if (error instanceof Anthropic.APIError) {
    const type = (error.error as { error?: { type?: string } } | undefined)?.error?.type;
    return `the model API failed with ${error.status ?? 'no status'}${type ? ` ${type}` : ''} (after ${retries + 1} attempt(s))`;
  }
  if (error instanceof Anthropic.APIConnectionError)
    return `the model API could not be reached (after ${retries + 1} attempt(s))`;
  return `the model call failed: ${describeError(error)}`;
}

function contextForModel(context: InvestigationContext): Record<string, unknown> {
  return {
    incidentId: context.incidentId,
    severity: context.severity,
    openedAt: new Date(context.openedAt).toISOString(),
    symptoms: context.symptoms,
    signals: context.signals,
    findingHints: context.findingHints,
    recentChanges: context.recentChanges.map((change) => ({
      ...change,
      at: new Date(change.at).toISOString(),
    })),
    blastRadius: context.blastRadius,
    nodes: context.nodes,
    newNeighbors: context.newNeighbors.map((item) => ({
      ...item,
      since: new Date(item.since).toISOString(),
    })),
    similarIncidents: context.similarIncidents,
    runbooks: context.runbooks,
    slackThreads: context.slackThreads,
    targets: context.targets,
  };
}

function treeText(tree: readonly Hypothesis[]): string {
  return tree
    .map(
      (node) =>
        `- ${node.id} [${node.category} on ${node.suspect}] ${node.status} at ${node.confidence.toFixed(2)} after ${node.evidence.length} check(s)`,
    )
    .join('\n');
}

/**
 * A run that asks Claude. Every model output is validated with zod; an invalid one gets one
 * retry that quotes the validation error, then the rules planner takes over. API failures
 * (429, 529, 5xx, timeouts) are retried by the SDK with backoff; when they persist the rules
 * planner takes over too. After a fallback every call goes to the rules run, and
 * `fallbackReason()` says why.
 */
class ClaudeRun implements PlannerRun {
  readonly #client: Anthropic;
  readonly #options: ClaudePlannerOptions;
  readonly #context: InvestigationContext;
  readonly #tools: ToolSet;
  readonly #logger: Logger;
  readonly #threshold: number;
  readonly #rules: RulesRun;
  readonly #modelTools: Anthropic.Tool[];
  readonly #usage: TokenUsage = { input: 0, output: 0 };
  /** The multi-turn investigation conversation (deep model). */
  readonly #conversation: Anthropic.MessageParam[] = [];
  /** tool_use ids of the last turn, waiting for results. */
  #pending: string[] = [];
  /** Results (or errors) to send back, by tool_use id. */
  readonly #results = new Map<string, { content: string; isError: boolean }>();
  #concluded: string | undefined;
  #fallback: string | undefined;

  constructor(client: Anthropic, options: ClaudePlannerOptions, plannerRun: PlannerRunOptions) {
    this.#client = client;
    this.#options = options;
    this.#context = plannerRun.context;
    this.#tools = plannerRun.tools;
    this.#logger = plannerRun.logger;
    this.#threshold = plannerRun.supportThreshold;
    this.#rules = createRulesPlanner(options.rules).open(plannerRun);
    this.#modelTools = modelTools(plannerRun.tools);
  }

  usage(): TokenUsage {
    return { ...this.#usage };
  }

  fallbackReason(): string | undefined {
    return this.#fallback;
  }

  #fallBack(reason: string): void {
    if (this.#fallback) return;
    this.#fallback = `${reason}; the rules planner took over`;
    this.#logger.warn({ reason }, 'claude planner fell back to rules');
  }

  async #create(
    model: string,
    messages: Anthropic.MessageParam[],
    toolChoice: Anthropic.ToolChoice,
    signal: AbortSignal,
  ): Promise<Anthropic.Message> {
    try {
      const reply = await this.#client.messages.create(
        {
          model,
          max_tokens: this.#options.maxOutputTokens ?? 2048,
          system: systemBlocks(),
          tools: this.#modelTools,
          tool_choice: toolChoice,
          messages,
        },
        { signal },
      );
      const usage = reply.usage;
      this.#usage.input +=
        usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
      this.#usage.output += usage.output_tokens;
      return reply;
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ModelUnavailable(describeApiFailure(error, this.#options.maxRetries ?? 2), { cause: error });
    }
  }

  /** Asks for one structured tool call; one retry quoting the validation error; then InvalidOutput. */
  async #structured<T>(
    model: string,
    tool: string,
    schema: z.ZodType<T>,
    prompt: string,
    signal: AbortSignal,
  ): Promise<T> {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: prompt }];
    let problem = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.#create(model, messages, { type: 'tool', name: tool }, signal);
      const call = reply.content.find(
        (block): block is Anthropic.ToolUseBlock => block.type === 'tool_use' && block.name === tool,
      );
      if (!call) {
        problem = `no ${tool} call in the reply`;
        messages.push(
          { role: 'assistant', content: reply.content },
          { role: 'user', content: `Invalid: ${problem}. Call ${tool}.` },
        );
        continue;
      }
      const parsed = schema.safeParse(call.input);
      if (parsed.success) return parsed.data;
      problem = issuesText(parsed.error);
      messages.push(
        { role: 'assistant', content: reply.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: call.id,
              is_error: true,
              content: `Invalid input: ${problem}. Call ${tool} again with input that fits its schema.`,
            },
          ],
        },
      );
    }
    throw new InvalidOutput(`invalid ${tool} output from the model twice (${problem})`);
  }

  async #guard<T>(work: () => Promise<T>, fallback: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.#fallback) return fallback();
    try {
      return await work();
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof ModelUnavailable || error instanceof InvalidOutput) this.#fallBack(error.message);
      else this.#fallBack(`the model planner failed: ${describeError(error)}`);
      return fallback();
    }
  }

  propose(signal: AbortSignal): Promise<HypothesisDraft[]> {
    return this.#guard(
      async () => {
        const prompt = [
          'A production incident needs a root cause. Propose hypotheses (categories and suspects by graph id) with priors.',
          'The graph context follows.',
          quoteForModel('incident-context', contextForModel(this.#context)),
        ].join('\n\n');
        const output = await this.#structured(
          this.#options.fastModel,
          RECORD_HYPOTHESES,
          hypothesesSchema,
          prompt,
          signal,
        );
        return output.hypotheses;
      },
      () => this.#rules.propose(),
      signal,
    );
  }

  nextChecks(
    tree: readonly Hypothesis[],
    budget: BudgetRemaining,
    signal: AbortSignal,
  ): Promise<PlannedCheck[]> {
    return this.#guard(
      () => this.#askForChecks(tree, budget, signal),
      () => this.#rules.nextChecks(tree, budget),
      signal,
    );
  }

  async #askForChecks(
    tree: readonly Hypothesis[],
    budget: BudgetRemaining,
    signal: AbortSignal,
  ): Promise<PlannedCheck[]> {
    if (this.#concluded) return [];
    const status = `Hypotheses now:\n${treeText(tree)}\n\nBudget left: ${budget.toolCalls} tool call(s), up to ${budget.parallelism} at a time. Call tools (each with hypothesis_id) or conclude.`;
    if (this.#conversation.length === 0) {
      this.#conversation.push({
        role: 'user',
        content: `Test these hypotheses for incident ${this.#context.incidentId}.\n\n${quoteForModel('incident-context', contextForModel(this.#context))}\n\n${status}`,
      });
    } else {
      this.#conversation.push({
        role: 'user',
        content: [...this.#takeResults(), { type: 'text', text: status }],
      });
    }
    const ids = new Set(tree.map((node) => node.id));
    for (let attempt = 0; attempt < 3; attempt++) {
      const reply = await this.#create(this.#options.deepModel, this.#conversation, { type: 'auto' }, signal);
      this.#conversation.push({ role: 'assistant', content: reply.content });
      const uses = reply.content.filter(
        (block): block is Anthropic.ToolUseBlock => block.type === 'tool_use',
      );
      this.#pending = uses.map((use) => use.id);
      const checks: PlannedCheck[] = [];
      for (const use of uses) {
        if (use.name === CONCLUDE) {
          this.#concluded = 'the model concluded';
          this.#results.set(use.id, { content: 'noted', isError: false });
          continue;
        }
        const { hypothesis_id: hypothesisId, ...rest } = (use.input ?? {}) as Record<string, unknown>;
        if (typeof hypothesisId !== 'string' || !ids.has(hypothesisId)) {
          this.#results.set(use.id, {
            content: `hypothesis_id must be one of: ${[...ids].join(', ')}`,
            isError: true,
          });
          continue;
        }
        const checked = this.#tools.validate(use.name, rest);
        if (!checked.ok) {
          this.#results.set(use.id, { content: `Invalid call: ${checked.error}`, isError: true });
          continue;
        }
        checks.push({ hypothesisId, tool: use.name, input: checked.input, callId: use.id });
      }
      if (checks.length > 0 || this.#concluded || uses.length === 0) {
        if (uses.length === 0) this.#concluded = 'the model ended its turn without a check';
        return checks;
      }
      // Every call was malformed: send the errors back and ask again.
      this.#conversation.push({
        role: 'user',
        content: [
          ...this.#takeResults(),
          { type: 'text', text: 'Every call above was invalid. Fix the inputs and call again.' },
        ],
      });
    }
    throw new InvalidOutput('the model made only invalid tool calls three times');
  }

  #takeResults(): Anthropic.ToolResultBlockParam[] {
    const blocks = this.#pending.map((id) => {
      const result = this.#results.get(id) ?? {
        content: 'not run: the budget or the parallelism limit left it out',
        isError: true,
      };
      this.#results.delete(id);
      return {
        type: 'tool_result' as const,
        tool_use_id: id,
        content: result.content,
        ...(result.isError ? { is_error: true } : {}),
      };
    });
    this.#pending = [];
    return blocks;
  }

  assess(
    items: ReadonlyArray<{ hypothesis: Hypothesis; outcomes: readonly CheckOutcome[] }>,
    signal: AbortSignal,
  ): Promise<Assessment[]> {
    for (const { outcomes } of items)
      for (const outcome of outcomes)
        this.#results.set(outcome.callId, {
          content: quoteForModel('tool-output', {
            tool: outcome.tool,
            status: outcome.result.status,
            summary: outcome.result.summary,
            data: outcome.result.data,
          }),
          isError: outcome.result.status === 'error',
        });
    return this.#guard(
      async () => {
        const prompt = [
          'Assess each tool output against its hypothesis: a verdict (supports, refutes, neutral) and weight per call, and the new confidence of each hypothesis.',
          ...items.map(({ hypothesis, outcomes }) =>
            [
              `Hypothesis ${hypothesis.id} [${hypothesis.category} on ${hypothesis.suspect}] at ${hypothesis.confidence.toFixed(2)}: ${hypothesis.statement}`,
              ...outcomes.map(
                (outcome) =>
                  `call ${outcome.callId}:\n${quoteForModel('tool-output', { tool: outcome.tool, input: outcome.input, status: outcome.result.status, summary: outcome.result.summary, data: outcome.result.data })}`,
              ),
            ].join('\n'),
          ),
        ].join('\n\n');
        const output = await this.#structured(
          this.#options.fastModel,
          RECORD_ASSESSMENT,
          assessmentSchema,
          prompt,
          signal,
        );
        return items.map(({ hypothesis, outcomes }) => {
          const found = output.assessments.find((item) => item.hypothesis_id === hypothesis.id);
          if (!found) throw new InvalidOutput(`the assessment left out ${hypothesis.id}`);
          const callIds = new Set(outcomes.map((outcome) => outcome.callId));
          return {
            hypothesisId: hypothesis.id,
            confidence: found.confidence,
            verdicts: found.verdicts
              .filter((verdict) => callIds.has(verdict.call_id))
              .map((verdict) => ({
                callId: verdict.call_id,
                verdict: verdict.verdict,
                weight: verdict.weight,
                rationale: verdict.rationale,
              })),
          };
        });
      },
      () => this.#rules.assess(items),
      signal,
    );
  }

  expand(hypothesis: Hypothesis): Promise<HypothesisDraft[]> {
    return this.#rules.expand(hypothesis);
  }

  shouldStop(tree: readonly Hypothesis[]): StopDecision {
    if (this.#fallback) return this.#rules.shouldStop(tree);
    const standard = standardStop(tree, this.#threshold);
    if (standard.stop) return standard;
    if (this.#concluded) return { stop: true, reason: this.#concluded };
    return standard;
  }

  isExhausted(hypothesis: Hypothesis): boolean {
    return this.#fallback ? this.#rules.isExhausted(hypothesis) : false;
  }
}

/** The Claude planner: tool use over the read-only tools, structured outputs checked with zod, rules as the fallback. */
export function createClaudePlanner(options: ClaudePlannerOptions): Planner {
  const client =
    options.client ??
    new Anthropic({
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      maxRetries: options.maxRetries ?? 2,
      timeout: options.timeoutMs ?? 60_000,
    });
  return { kind: 'claude', open: (plannerRun) => new ClaudeRun(client, options, plannerRun) };
}
