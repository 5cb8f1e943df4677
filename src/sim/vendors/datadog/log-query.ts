import { wildcardMatch } from './tags.js';

/**
 * A subset of Datadog's log search syntax: `key:value` (`*` wildcards, `key:(a OR b)`,
 * `@attribute:value`), bare words and `"quoted phrases"` matched in the message, `-`/`NOT`
 * negation, `AND` (also implicit), `OR`, and parentheses.
 */
export type LogFilter =
  | { kind: 'all' }
  | { kind: 'field'; key: string; value: string }
  | { kind: 'text'; value: string }
  | { kind: 'not'; operand: LogFilter }
  | { kind: 'and' | 'or'; operands: LogFilter[] };

/** What a log filter is tested against: its facets (`service`, `status`, …) and message. */
export interface SearchableLog {
  fields: ReadonlyMap<string, string>;
  message: string;
}

/** A search the sim cannot parse; Datadog answers 400 with this message. */
export class LogQueryError extends Error {}

type Token = { kind: 'word' | 'phrase' | 'open' | 'close'; text: string };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < query.length) {
    const char = query[index] ?? '';
    if (/\s/.test(char)) {
      index++;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char === '(' ? 'open' : 'close', text: char });
      index++;
    } else if (char === '"') {
      const end = query.indexOf('"', index + 1);
      if (end < 0) throw new LogQueryError(`unterminated quote at ${index}`);
      tokens.push({ kind: 'phrase', text: query.slice(index + 1, end) });
      index = end + 1;
    } else {
      let end = index;
      while (end < query.length && !/[\s()]/.test(query[end] ?? '')) {
        if (query[end] === '"') {
          const close = query.indexOf('"', end + 1);
          if (close < 0) throw new LogQueryError(`unterminated quote at ${end}`);
          end = close + 1;
        } else end++;
      }
      tokens.push({ kind: 'word', text: query.slice(index, end) });
      index = end;
    }
  }
  return tokens;
}

class Parser {
  #position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): LogFilter {
    if (this.tokens.length === 0) return { kind: 'all' };
    const filter = this.or();
    if (this.#position < this.tokens.length)
      throw new LogQueryError(`unexpected "${this.tokens[this.#position]?.text}"`);
    return filter;
  }

  private peek(): Token | undefined {
    return this.tokens[this.#position];
  }

  private or(): LogFilter {
    const operands = [this.and()];
    while (this.peek()?.kind === 'word' && this.peek()?.text === 'OR') {
      this.#position++;
      operands.push(this.and());
    }
    return operands.length === 1 ? (operands[0] as LogFilter) : { kind: 'or', operands };
  }

  private and(): LogFilter {
    const operands = [this.unary()];
    for (;;) {
      const next = this.peek();
      if (!next || next.kind === 'close' || (next.kind === 'word' && next.text === 'OR')) break;
      if (next.kind === 'word' && next.text === 'AND') this.#position++;
      operands.push(this.unary());
    }
    return operands.length === 1 ? (operands[0] as LogFilter) : { kind: 'and', operands };
  }

  private unary(): LogFilter {
    const token = this.peek();
    if (!token) throw new LogQueryError('unexpected end of query');
    if (token.kind === 'word' && token.text === 'NOT') {
      this.#position++;
      return { kind: 'not', operand: this.unary() };
    }
    if (token.kind === 'word' && token.text.startsWith('-') && token.text.length > 1) {
      this.tokens[this.#position] = { kind: 'word', text: token.text.slice(1) };
      return { kind: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): LogFilter {
    const token = this.tokens[this.#position++];
    if (!token) throw new LogQueryError('unexpected end of query');
    if (token.kind === 'open') {
      const inner = this.or();
      if (this.tokens[this.#position++]?.kind !== 'close') throw new LogQueryError('missing ")"');
      return inner;
    }
    if (token.kind === 'close') throw new LogQueryError('unexpected ")"');
    if (token.kind === 'phrase') return { kind: 'text', value: token.text };
    if (token.text === '*') return { kind: 'all' };
    const colon = token.text.indexOf(':');
    if (colon <= 0) return { kind: 'text', value: token.text };
    const key = token.text.slice(0, colon).replace(/^@/, '');
    const value = token.text.slice(colon + 1).replace(/^"(.*)"$/, '$1');
    if (value !== '') return { kind: 'field', key, value };
    return this.valueGroup(key);
  }

  /** `key:(a OR b)` */
  private valueGroup(key: string): LogFilter {
    if (this.tokens[this.#position++]?.kind !== 'open') throw new LogQueryError(`missing value for ${key}`);
    const operands: LogFilter[] = [];
    for (;;) {
      const token = this.tokens[this.#position++];
      if (!token) throw new LogQueryError('missing ")"');
      if (token.kind === 'close') break;
      if (token.kind === 'word' && (token.text === 'OR' || token.text === 'AND')) continue;
      if (token.kind === 'open') throw new LogQueryError('nested groups in a value list are not supported');
      operands.push({ kind: 'field', key, value: token.text });
    }
    if (operands.length === 0) throw new LogQueryError(`empty value list for ${key}`);
    return { kind: 'or', operands };
  }
}

/** Parses a search query; an empty query or `*` matches everything. Throws LogQueryError. */
export function parseLogQuery(query: string): LogFilter {
  return new Parser(tokenize(query)).parse();
}

/** True when the log matches the filter. Text matches are case-insensitive, on the message. */
export function matchesLog(filter: LogFilter, log: SearchableLog): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'field': {
      const value = log.fields.get(filter.key);
      return value !== undefined && wildcardMatch(filter.value, value);
    }
    case 'text':
      return filter.value.includes('*')
        ? wildcardMatch(`*${filter.value}*`, log.message)
        : log.message.toLowerCase().includes(filter.value.toLowerCase());
    case 'not':
      return !matchesLog(filter.operand, log);
    case 'and':
      return filter.operands.every((operand) => matchesLog(operand, log));
    case 'or':
      return filter.operands.some((operand) => matchesLog(operand, log));
  }
}
