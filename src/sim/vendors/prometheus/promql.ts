/**
 * The PromQL subset the sim evaluates (see docs/sim.md, "Prometheus"): vector selectors with
 * label matchers (`=`, `!=`, `=~`, `!~`), range selectors `[5m]`, the `*_over_time` functions,
 * `sum|avg|min|max|count` with `by`/`without`, number literals, parentheses, and binary
 * operators between an expression and a number (`+ - * /`, comparisons with optional `bool`).
 */
export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'selector'; name?: string; matchers: Matcher[]; rangeMs?: number }
  | { kind: 'function'; name: OverTimeFunction; argument: Expr }
  | {
      kind: 'aggregate';
      op: AggregateOp;
      grouping?: { mode: 'by' | 'without'; labels: string[] };
      argument: Expr;
    }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; returnBool: boolean };

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count';
export type OverTimeFunction =
  | 'avg_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'sum_over_time'
  | 'count_over_time'
  | 'last_over_time';
export type BinaryOp = '+' | '-' | '*' | '/' | '==' | '!=' | '>' | '<' | '>=' | '<=';

const AGGREGATES = new Set(['sum', 'avg', 'min', 'max', 'count']);
const FUNCTIONS = new Set([
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
]);
const COMPARISONS = new Set(['==', '!=', '>', '<', '>=', '<=']);

/** A query outside the subset or malformed; the message follows Prometheus' `parse error`. */
export class PromQlError extends Error {}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Parses a Prometheus duration (`30s`, `5m`, `1h30m`) to ms; undefined when invalid. */
export function parsePromDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g))
    total += Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 0);
  return total;
}

type Token = {
  kind: 'ident' | 'number' | 'string' | 'op' | 'punct' | 'duration';
  text: string;
  position: number;
};

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const rest = input.slice(index);
    const space = /^\s+/.exec(rest);
    if (space) {
      index += space[0].length;
      continue;
    }
    const previous = tokens[tokens.length - 1];
    if (previous?.text === '[') {
      const duration = /^[0-9a-z]+/.exec(rest);
      if (duration) {
        tokens.push({ kind: 'duration', text: duration[0], position: index });
        index += duration[0].length;
        continue;
      }
    }
    const patterns: Array<[Token['kind'], RegExp]> = [
      ['number', /^(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+|Inf|NaN)\b/i],
      ['ident', /^[a-zA-Z_:][a-zA-Z0-9_:]*/],
      ['string', /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'/],
      ['op', /^(?:==|!=|>=|<=|=~|!~|[-+*/<>=])/],
      ['punct', /^[(){}[\],]/],
    ];
    const found = patterns.find(([, pattern]) => pattern.test(rest));
    if (!found) throw new PromQlError(`1:${index + 1}: parse error: unexpected character: '${rest[0]}'`);
    const text = found[1].exec(rest)?.[0] ?? '';
    tokens.push({ kind: found[0], text, position: index });
    index += text.length;
  }
  return tokens;
}

class Parser {
  #index = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    if (this.tokens.length === 0)
      throw new PromQlError('unknown position: parse error: no expression found in input');
    const expr = this.comparison();
    const extra = this.tokens[this.#index];
    if (extra) throw this.error(extra, `unexpected ${extra.text}`);
    return expr;
  }

  private error(token: Token | undefined, message: string): PromQlError {
    return new PromQlError(
      token
        ? `1:${token.position + 1}: parse error: ${message}`
        : `parse error: unexpected end of input, ${message}`,
    );
  }

  private peek(): Token | undefined {
    return this.tokens[this.#index];
  }

  private take(text?: string): Token {
    const token = this.tokens[this.#index];
    if (!token || (text !== undefined && token.text !== text))
      throw this.error(token, text ? `expected "${text}"` : 'unexpected end of input');
    this.#index++;
    return token;
  }

  private comparison(): Expr {
    let left = this.additive();
    while (this.peek()?.kind === 'op' && COMPARISONS.has(this.peek()?.text ?? '')) {
      const op = this.take().text as BinaryOp;
      const returnBool = this.peek()?.text === 'bool';
      if (returnBool) this.take();
      left = { kind: 'binary', op, left, right: this.additive(), returnBool };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.peek()?.text === '+' || this.peek()?.text === '-') {
      const op = this.take().text as BinaryOp;
      left = { kind: 'binary', op, left, right: this.multiplicative(), returnBool: false };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.peek()?.text === '*' || this.peek()?.text === '/') {
      const op = this.take().text as BinaryOp;
      left = { kind: 'binary', op, left, right: this.unary(), returnBool: false };
    }
    return left;
  }

  private unary(): Expr {
    if (this.peek()?.text === '-') {
      this.take();
      return {
        kind: 'binary',
        op: '*',
        left: { kind: 'number', value: -1 },
        right: this.unary(),
        returnBool: false,
      };
    }
    return this.primary();
  }

  private primary(): Expr {
    const token = this.peek();
    if (!token) throw this.error(token, 'expected an expression');
    if (token.kind === 'number') {
      this.take();
      return { kind: 'number', value: Number(token.text.replace(/^inf$/i, 'Infinity')) };
    }
    if (token.text === '(') {
      this.take('(');
      const inner = this.comparison();
      this.take(')');
      return inner;
    }
    if (token.text === '{') return this.selector(undefined);
    if (token.kind !== 'ident') throw this.error(token, `unexpected ${token.text}`);
    this.take();
    if (AGGREGATES.has(token.text)) return this.aggregate(token.text as AggregateOp);
    if (FUNCTIONS.has(token.text)) {
      this.take('(');
      const argument = this.comparison();
      this.take(')');
      if (argument.kind !== 'selector' || argument.rangeMs === undefined)
        throw this.error(token, `expected type range vector in call to function "${token.text}"`);
      return { kind: 'function', name: token.text as OverTimeFunction, argument };
    }
    if (this.peek()?.text === '(') throw this.error(token, `unknown function with name "${token.text}"`);
    return this.selector(token.text);
  }

  private grouping(): { mode: 'by' | 'without'; labels: string[] } {
    const mode = this.take().text as 'by' | 'without';
    this.take('(');
    const labels: string[] = [];
    while (this.peek()?.text !== ')') {
      labels.push(this.take().text);
      if (this.peek()?.text === ',') this.take(',');
    }
    this.take(')');
    return { mode, labels };
  }

  private aggregate(op: AggregateOp): Expr {
    let grouping =
      this.peek()?.text === 'by' || this.peek()?.text === 'without' ? this.grouping() : undefined;
    this.take('(');
    const argument = this.comparison();
    this.take(')');
    if (!grouping && (this.peek()?.text === 'by' || this.peek()?.text === 'without'))
      grouping = this.grouping();
    return grouping ? { kind: 'aggregate', op, grouping, argument } : { kind: 'aggregate', op, argument };
  }

  private selector(name: string | undefined): Expr {
    const matchers: Matcher[] = [];
    if (this.peek()?.text === '{') {
      this.take('{');
      while (this.peek()?.text !== '}') {
        const label = this.take();
        if (label.kind !== 'ident')
          throw this.error(label, `unexpected ${label.text} in label matching, expected label`);
        const op = this.take();
        if (!['=', '!=', '=~', '!~'].includes(op.text))
          throw this.error(op, `unexpected ${op.text} in label matching, expected label matching operator`);
        const value = this.take();
        if (value.kind !== 'string')
          throw this.error(value, `unexpected ${value.text} in label matching, expected string`);
        matchers.push({
          label: label.text,
          op: op.text as Matcher['op'],
          value: value.text.slice(1, -1).replace(/\\(.)/g, '$1'),
        });
        if (this.peek()?.text === ',') this.take(',');
      }
      this.take('}');
    }
    if (name === undefined && !matchers.some((m) => m.op === '=' && m.value !== '')) {
      throw new PromQlError('parse error: vector selector must contain at least one non-empty matcher');
    }
    const selector: Expr =
      name === undefined ? { kind: 'selector', matchers } : { kind: 'selector', name, matchers };
    if (this.peek()?.text === '[') {
      this.take('[');
      const duration = this.take();
      const rangeMs = parsePromDuration(duration.text);
      if (rangeMs === undefined) throw this.error(duration, `bad duration syntax: "${duration.text}"`);
      this.take(']');
      return { ...selector, rangeMs };
    }
    return selector;
  }
}

/** Parses a query in the subset; throws PromQlError with Prometheus-like positions. */
export function parsePromQl(query: string): Expr {
  return new Parser(tokenize(query)).parse();
}
