/**
 * A reader for Dockerfile syntax, enough to check the image's build without a Docker engine:
 * instructions with `\` line continuations, comments (dropped, also inside a continuation),
 * exec (JSON) and shell forms, `ENV` pairs with quotes, `FROM ... AS name` stages and global
 * `ARG` defaults substituted into `FROM`.
 */

/** One instruction, its continuation lines joined. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
  /** The exec form's array, when `args` is a JSON array of strings. */
  json?: string[];
  /** 1-based line where the instruction starts. */
  line: number;
}

/** One build stage: its `FROM` and the instructions after it. */
export interface Stage {
  base: string;
  name?: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first `FROM` (only `ARG` is allowed there). */
  preamble: Instruction[];
  stages: Stage[];
}

/** A Dockerfile that cannot be read; `message` says where. */
export class DockerfileError extends Error {}

function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a Dockerfile into instructions. */
export function parseInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  let index = 0;
  while (index < lines.length) {
    const start = index;
    const first = (lines[index++] as string).trim();
    if (first === '' || first.startsWith('#')) continue;
    let body = first;
    while (body.endsWith('\\')) {
      body = body.slice(0, -1).trimEnd();
      let next: string | undefined;
      while (index < lines.length) {
        const candidate = (lines[index++] as string).trim();
        // Docker skips comment and empty lines inside a continuation.
        if (candidate === '' || candidate.startsWith('#')) continue;
        next = candidate;
        break;
      }
      if (next === undefined) break;
      body = `${body} ${next}`.trimEnd();
    }
    const match = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(body);
    if (!match) throw new DockerfileError(`line ${start + 1}: cannot read "${body}"`);
    const args = (match[2] ?? '').trim();
    const json = execForm(args);
    instructions.push({
      keyword: (match[1] as string).toUpperCase(),
      args,
      ...(json ? { json } : {}),
      line: start + 1,
    });
  }
  return instructions;
}

/** Splits shell-like words: quotes group, backslash escapes, whitespace separates. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < text.length) current += text[++index];
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && index + 1 < text.length) {
      current += text[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) throw new DockerfileError(`unterminated quote in "${text}"`);
  if (inWord) words.push(current);
  return words;
}

/** `ENV`/`LABEL` arguments as name → value (`A=1 B="two words"`, or the legacy `A value`). */
export function parsePairs(args: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const words = splitWords(args);
  if (words.length > 0 && !(words[0] as string).includes('=')) {
    const legacy = /^(\S+)\s+(.*)$/.exec(args.trim());
    if (!legacy) throw new DockerfileError(`"${args}" has no value`);
    pairs.set(legacy[1] as string, legacy[2] as string);
    return pairs;
  }
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals <= 0) throw new DockerfileError(`"${word}" is not NAME=value`);
    pairs.set(word.slice(0, equals), word.slice(equals + 1));
  }
  return pairs;
}

/** Leading `--name=value` flags of an instruction, and the rest of its words. */
export function parseFlags(args: string): { flags: Map<string, string>; rest: string[] } {
  const words = splitWords(args);
  const flags = new Map<string, string>();
  while (words.length > 0 && (words[0] as string).startsWith('--')) {
    const [name = '', value = 'true'] = (words.shift() as string).slice(2).split(/=(.*)/s);
    flags.set(name, value);
  }
  return { flags, rest: words };
}

function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const value = args.get((braced ?? bare) as string);
      return value ?? whole;
    },
  );
}

/** Reads a Dockerfile into its global `ARG`s and stages. */
export function parseDockerfile(text: string): Dockerfile {
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  const globalArgs = new Map<string, string>();
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const { rest } = parseFlags(instruction.args);
      const [image, as, name] = rest;
      if (!image || (as !== undefined && (as.toUpperCase() !== 'AS' || !name))) {
        throw new DockerfileError(`line ${instruction.line}: FROM needs "image [AS name]"`);
      }
      stages.push({
        base: substitute(image, globalArgs),
        ...(name ? { name } : {}),
        from: instruction,
        instructions: [],
      });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage) {
      stage.instructions.push(instruction);
      continue;
    }
    if (instruction.keyword !== 'ARG') {
      throw new DockerfileError(`line ${instruction.line}: only ARG may come before the first FROM`);
    }
    preamble.push(instruction);
    const [name = '', value = ''] = instruction.args.split(/=(.*)/s);
    globalArgs.set(name.trim(), value.trim());
  }
  if (stages.length === 0) throw new DockerfileError('no FROM instruction');
  return { preamble, stages };
}
