/** Nesting deeper than this is refused before parsing; no webhook body nests near it. */
export const MAX_JSON_DEPTH = 64;

/** A body read as JSON, or why it is not JSON (a message for the sender). */
export type JsonBody = { ok: true; value: unknown } | { ok: false; message: string };

/** The deepest `[`/`{` nesting of a JSON text, counting only outside strings. Linear. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 92)
        index++; // backslash: skip the escaped character
      else if (code === 34) inString = false;
      continue;
    }
    if (code === 34) inString = true;
    else if (code === 123 || code === 91) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (code === 125 || code === 93) depth--;
  }
  return deepest;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and parses a request body as JSON: strict UTF-8, not empty, at most `MAX_JSON_DEPTH`
 * deep (deeper input would exhaust the stack of whatever walks it later). Never throws.
 */
export function readJsonBody(bytes: Uint8Array): JsonBody {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, message: 'the body is not valid UTF-8' };
  }
  if (text.trim().length === 0) return { ok: false, message: 'the body is empty; expected a JSON object' };
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    return { ok: false, message: `the JSON nests deeper than ${MAX_JSON_DEPTH} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      message: `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
