import type { ScriptExpectation } from './script.js';

/** The parts of a Messages API request the expectations look at. */
export interface MessagesRequest {
  model?: unknown;
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
}

type Block = { type?: unknown; text?: unknown; tool_use_id?: unknown };
type Message = { role?: unknown; content?: unknown };

function blocks(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Block[]) : [];
}

function lastUserMessage(request: MessagesRequest): Message | undefined {
  const messages = Array.isArray(request.messages) ? (request.messages as Message[]) : [];
  return [...messages].reverse().find((message) => message.role === 'user');
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  return blocks(system)
    .map((block) => (typeof block.text === 'string' ? block.text : ''))
    .join('\n');
}

/** The reasons the request fails the expectation; empty when it meets it. */
export function unmetExpectations(
  expectation: ScriptExpectation | undefined,
  request: MessagesRequest,
  rawBody: string,
): string[] {
  if (!expectation) return [];
  const reasons: string[] = [];
  if (expectation.model !== undefined && request.model !== expectation.model)
    reasons.push(`model ${String(request.model)} is not ${expectation.model}`);
  const last = lastUserMessage(request);
  if (expectation.toolResultFor !== undefined) {
    const found = blocks(last?.content).some(
      (block) => block.type === 'tool_result' && block.tool_use_id === expectation.toolResultFor,
    );
    if (!found) reasons.push(`the last user message has no tool_result for ${expectation.toolResultFor}`);
  }
  if (expectation.lastUserTextIncludes !== undefined) {
    const text = blocks(last?.content)
      .map((block) => (typeof block.text === 'string' ? block.text : ''))
      .join('\n');
    if (!text.includes(expectation.lastUserTextIncludes))
      reasons.push(`the last user message does not contain "${expectation.lastUserTextIncludes}"`);
  }
  if (
    expectation.systemIncludes !== undefined &&
    !systemText(request.system).includes(expectation.systemIncludes)
  ) {
    reasons.push(`the system prompt does not contain "${expectation.systemIncludes}"`);
  }
  if (expectation.tools !== undefined) {
    const offered = new Set(
      (Array.isArray(request.tools) ? (request.tools as Array<{ name?: unknown }>) : []).map(
        (tool) => tool.name,
      ),
    );
    const missing = expectation.tools.filter((name) => !offered.has(name));
    if (missing.length > 0) reasons.push(`tools not offered: ${missing.join(', ')}`);
  }
  for (const forbidden of expectation.notContaining ?? []) {
    // The body is JSON text: look for the string both as is and JSON-escaped.
    if (rawBody.includes(forbidden) || rawBody.includes(JSON.stringify(forbidden).slice(1, -1)))
      reasons.push('the request contains a forbidden string');
  }
  return reasons;
}
