import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

/**
 * A small evaluator for the subset of Go templates (with the Sprig functions Helm adds) that the
 * chart uses: text with `{{ }}` actions and their `-` trim markers, comments, `if`/`else if`/
 * `else`, `with`, `range` (over lists and maps, with `$k, $v :=`), `define`/`include`,
 * variables, parenthesised calls and pipelines. It exists so the chart can be rendered and its
 * output checked without a `helm` binary; anything outside the subset throws, naming it, rather
 * than rendering something Helm would not.
 *
 * One deliberate difference: a `.Values` lookup of a key that does not exist throws (Helm prints
 * nothing), which turns a misspelt value into a failing test.
 */

type Value = unknown;
type Scope = { dot: Value; vars: Map<string, Value> };

interface TextNode {
  type: 'text';
  text: string;
}
interface ActionNode {
  type: 'action';
  source: string;
}
interface IfNode {
  type: 'if';
  branches: { condition: string; body: Node[] }[];
  otherwise: Node[];
}
interface WithNode {
  type: 'with';
  expression: string;
  body: Node[];
  otherwise: Node[];
}
interface RangeNode {
  type: 'range';
  keyVariable?: string;
  valueVariable?: string;
  expression: string;
  body: Node[];
}
type Node = TextNode | ActionNode | IfNode | WithNode | RangeNode;

/** A template that could not be parsed or evaluated; `message` names the file and the action. */
export class TemplateError extends Error {}

/** Raised by the template's `fail` function; `message` is exactly what the template said. */
export class TemplateFailure extends Error {}

type Token = { kind: 'text'; text: string } | { kind: 'action'; source: string };

function lex(template: string, file: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  let trimNext = false;
  while (position < template.length) {
    const open = template.indexOf('{{', position);
    let text = template.slice(position, open === -1 ? undefined : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      tokens.push({ kind: 'text', text });
      break;
    }
    const close = template.indexOf('}}', open);
    if (close === -1) throw new TemplateError(`${file}: unclosed action at offset ${open}`);
    let source = template.slice(open + 2, close);
    if (/^-\s/.test(source)) {
      text = text.replace(/\s+$/, '');
      source = source.slice(1);
    }
    trimNext = /\s-$/.test(source);
    if (trimNext) source = source.slice(0, -1);
    tokens.push({ kind: 'text', text });
    source = source.trim();
    if (!(source.startsWith('/*') && source.endsWith('*/'))) tokens.push({ kind: 'action', source });
    position = close + 2;
  }
  return tokens.filter((token) => token.kind === 'action' || token.text !== '');
}

interface Parsed {
  nodes: Node[];
  defines: Map<string, Node[]>;
}

function parse(template: string, file: string): Parsed {
  const tokens = lex(template, file);
  const defines = new Map<string, Node[]>();
  let index = 0;

  const list = (terminators: readonly string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (index < tokens.length) {
      const token = tokens[index++] as Token;
      if (token.kind === 'text') {
        nodes.push({ type: 'text', text: token.text });
        continue;
      }
      const [keyword = '', ...rest] = token.source.split(/\s+/);
      const argument = rest.join(' ');
      if (terminators.includes(keyword)) return { nodes, end: token.source };
      if (keyword === 'if') {
        const node: IfNode = { type: 'if', branches: [], otherwise: [] };
        let condition = argument;
        for (;;) {
          const part = list(['else', 'end']);
          node.branches.push({ condition, body: part.nodes });
          if (part.end === 'end') break;
          const elseIf = /^else\s+if\s+(.+)$/.exec(part.end);
          if (elseIf) {
            condition = elseIf[1] as string;
            continue;
          }
          node.otherwise = expectEnd(list(['end']), file).nodes;
          break;
        }
        nodes.push(node);
      } else if (keyword === 'with') {
        const part = list(['else', 'end']);
        const otherwise = part.end === 'end' ? [] : expectEnd(list(['end']), file).nodes;
        nodes.push({ type: 'with', expression: argument, body: part.nodes, otherwise });
      } else if (keyword === 'range') {
        const declared = /^(\$\w*)\s*(?:,\s*(\$\w*))?\s*:=\s*(.+)$/.exec(argument);
        const body = expectEnd(list(['end']), file).nodes;
        nodes.push({
          type: 'range',
          ...(declared?.[2]
            ? { keyVariable: declared[1], valueVariable: declared[2] }
            : declared
              ? { valueVariable: declared[1] }
              : {}),
          expression: declared ? (declared[3] as string) : argument,
          body,
        });
      } else if (keyword === 'define') {
        const name = JSON.parse(argument) as string;
        defines.set(name, expectEnd(list(['end']), file).nodes);
      } else if (['else', 'end'].includes(keyword)) {
        throw new TemplateError(`${file}: unexpected {{ ${token.source} }}`);
      } else {
        nodes.push({ type: 'action', source: token.source });
      }
    }
    if (terminators.length > 0) throw new TemplateError(`${file}: missing {{ end }}`);
    return { nodes, end: '' };
  };

  const nodes = list([]).nodes;
  return { nodes, defines };
}

function expectEnd(part: { nodes: Node[]; end: string }, file: string): { nodes: Node[]; end: string } {
  if (part.end !== 'end') throw new TemplateError(`${file}: expected {{ end }}, found {{ ${part.end} }}`);
  return part;
}

// Expressions ------------------------------------------------------------------------------

type ExprToken =
  | { kind: 'open' | 'close' | 'pipe' | 'assign' }
  | { kind: 'literal'; value: Value }
  | { kind: 'word'; text: string };

function tokenizeExpression(source: string): ExprToken[] {
  const tokens: ExprToken[] = [];
  const pattern =
    /\s*(?:(\()|(\))|(\|)|(:?=)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)(?![\w.])|([$.\w][\w.$]*))/y;
  let position = 0;
  while (position < source.length) {
    if (/^\s*$/.test(source.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (!match) throw new TemplateError(`cannot read "${source.slice(position)}" in {{ ${source} }}`);
    position = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: 'open' });
    else if (match[2]) tokens.push({ kind: 'close' });
    else if (match[3]) tokens.push({ kind: 'pipe' });
    else if (match[4]) tokens.push({ kind: 'assign' });
    else if (match[5]) tokens.push({ kind: 'literal', value: JSON.parse(match[5]) as string });
    else if (match[6]) tokens.push({ kind: 'literal', value: Number(match[6]) });
    else {
      const word = match[7] as string;
      if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', value: word === 'true' });
      else if (word === 'nil') tokens.push({ kind: 'literal', value: null });
      else tokens.push({ kind: 'word', text: word });
    }
  }
  return tokens;
}

/** Go template truthiness: false, 0, nil and empty strings, lists and maps are false. */
export function truthy(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function isMap(value: Value): value is Record<string, Value> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function printValue(value: Value): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`cannot print a ${Array.isArray(value) ? 'list' : 'map'}; use toYaml`);
}

function toYaml(value: Value): string {
  if (value === undefined || value === null) return 'null';
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

function indentLines(spaces: number, text: string): string {
  const pad = ' '.repeat(spaces);
  return pad + text.replace(/\n/g, `\n${pad}`);
}

function sprintf(format: string, args: Value[]): string {
  let next = 0;
  return format.replace(/%([sdv%])/g, (_match, verb: string) =>
    verb === '%' ? '%' : printValue(args[next++]),
  );
}

/** Renders a chart's templates against values, as `helm template` would for this subset. */
export class ChartRenderer {
  private readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();
  private readonly tokenized = new Map<string, ExprToken[]>();

  /**
   * @param templates file name (e.g. `deployment.yaml`, `_helpers.tpl`) → template text
   * @param basePath what `.Template.BasePath` holds, e.g. `nightshift/templates`
   */
  constructor(
    templates: ReadonlyMap<string, string>,
    private readonly basePath: string,
  ) {
    for (const [file, text] of templates) {
      const parsed = parse(text, file);
      for (const [name, body] of parsed.defines) this.defines.set(name, body);
      this.files.set(file, parsed.nodes);
      this.defines.set(`${basePath}/${file}`, parsed.nodes);
    }
  }

  /** The output of one template file with `root` as `.` (Values, Release, Chart, ...). */
  render(file: string, root: Record<string, Value>): string {
    const nodes = this.files.get(file);
    if (!nodes) throw new TemplateError(`no template ${file}`);
    const top = { ...root, Template: { BasePath: this.basePath, Name: `${this.basePath}/${file}` } };
    try {
      return this.run(nodes, { dot: top, vars: new Map([['$', top]]) });
    } catch (error) {
      if (error instanceof TemplateFailure) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new TemplateError(`${file}: ${message}`);
    }
  }

  private run(nodes: readonly Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      if (node.type === 'text') out += node.text;
      else if (node.type === 'action') out += this.action(node.source, scope);
      else if (node.type === 'if') {
        const branch = node.branches.find((candidate) => truthy(this.evaluate(candidate.condition, scope)));
        out += this.run(branch ? branch.body : node.otherwise, this.child(scope, scope.dot));
      } else if (node.type === 'with') {
        const value = this.evaluate(node.expression, scope);
        out += truthy(value)
          ? this.run(node.body, this.child(scope, value))
          : this.run(node.otherwise, this.child(scope, scope.dot));
      } else {
        const value = this.evaluate(node.expression, scope);
        if (!truthy(value)) continue;
        const entries: [Value, Value][] = Array.isArray(value)
          ? value.map((item, position) => [position, item])
          : isMap(value)
            ? Object.keys(value)
                .sort()
                .map((key) => [key, value[key]])
            : [];
        if (entries.length === 0) throw new TemplateError(`range over a ${typeof value}`);
        for (const [key, item] of entries) {
          const inner = this.child(scope, item);
          if (node.keyVariable) inner.vars.set(node.keyVariable, key);
          if (node.valueVariable) inner.vars.set(node.valueVariable, item);
          out += this.run(node.body, inner);
        }
      }
    }
    return out;
  }

  private child(scope: Scope, dot: Value): Scope {
    return { dot, vars: new Map(scope.vars) };
  }

  private action(source: string, scope: Scope): string {
    const assignment = /^(\$\w+)\s*:?=\s*(.+)$/s.exec(source);
    if (assignment) {
      scope.vars.set(assignment[1] as string, this.evaluate(assignment[2] as string, scope));
      return '';
    }
    return printValue(this.evaluate(source, scope));
  }

  private evaluate(source: string, scope: Scope): Value {
    let tokens = this.tokenized.get(source);
    if (!tokens) {
      tokens = tokenizeExpression(source);
      this.tokenized.set(source, tokens);
    }
    let index = 0;
    const pipeline = (): Value => {
      let value: Value = undefined;
      let first = true;
      for (;;) {
        const words: ExprToken[][] = [];
        while (index < tokens.length && !['pipe', 'close'].includes((tokens[index] as ExprToken).kind)) {
          const token = tokens[index++] as ExprToken;
          if (token.kind === 'open') {
            const start = index - 1;
            let depth = 1;
            while (depth > 0 && index < tokens.length) {
              const inner = (tokens[index++] as ExprToken).kind;
              if (inner === 'open') depth += 1;
              if (inner === 'close') depth -= 1;
            }
            words.push(tokens.slice(start, index));
          } else words.push([token]);
        }
        value = this.command(words, first ? [] : [value], scope);
        first = false;
        if (index < tokens.length && (tokens[index] as ExprToken).kind === 'pipe') index += 1;
        else break;
      }
      return value;
    };
    return pipeline();
  }

  private operand(tokens: ExprToken[], scope: Scope): Value {
    const first = tokens[0] as ExprToken;
    if (first.kind === 'open') {
      const inner = tokens.slice(1, -1);
      return this.command(splitWords(inner), [], scope);
    }
    if (first.kind === 'literal') return first.value;
    if (first.kind !== 'word') throw new TemplateError('unexpected token');
    return this.lookup(first.text, scope);
  }

  private lookup(path: string, scope: Scope): Value {
    let base: Value;
    let rest: string;
    if (path.startsWith('$')) {
      const name = /^\$\w*/.exec(path)?.[0] as string;
      if (!scope.vars.has(name)) throw new TemplateError(`undefined variable ${name}`);
      base = scope.vars.get(name);
      rest = path.slice(name.length);
    } else if (path.startsWith('.')) {
      base = scope.dot;
      rest = path;
    } else throw new TemplateError(`"${path}" is not a defined function`);
    const parts = rest.split('.').filter((part) => part !== '');
    let value = base;
    const walked: string[] = [];
    for (const part of parts) {
      if (!isMap(value)) throw new TemplateError(`nil pointer evaluating ${walked.join('.') || '.'}.${part}`);
      if (!(part in value) && walked[0] === 'Values') {
        throw new TemplateError(`.${[...walked, part].join('.')} is not in the values`);
      }
      value = value[part];
      walked.push(part);
    }
    return value;
  }

  private command(words: ExprToken[][], piped: Value[], scope: Scope): Value {
    const head = words[0]?.[0];
    if (!head) throw new TemplateError('empty command');
    if (head.kind === 'word' && (head.text === 'and' || head.text === 'or') && piped.length === 0) {
      // Both short-circuit, as in Go: `and (hasKey .m "k") .m.k` never reads a missing key.
      let last: Value = undefined;
      for (const word of words.slice(1)) {
        last = this.operand(word, scope);
        if (truthy(last) === (head.text === 'or')) return last;
      }
      return last;
    }
    if (head.kind === 'word' && !head.text.startsWith('.') && !head.text.startsWith('$')) {
      const args = [...words.slice(1).map((word) => this.operand(word, scope)), ...piped];
      return this.call(head.text, args);
    }
    if (words.length > 1 || piped.length > 0) throw new TemplateError('a value cannot take arguments');
    return this.operand(words[0] as ExprToken[], scope);
  }

  private call(name: string, args: Value[]): Value {
    const text = (position: number): string => printValue(args[position]);
    const number = (position: number): number => Number(args[position]);
    switch (name) {
      case 'include': {
        const body = this.defines.get(text(0));
        if (!body) throw new TemplateError(`no template "${text(0)}"`);
        // As in Go, `$` inside a named template is the data it was called with.
        return this.run(body, { dot: args[1], vars: new Map([['$', args[1]]]) });
      }
      case 'default':
        return truthy(args[1]) ? args[1] : args[0];
      case 'trunc':
        return text(1).slice(0, number(0));
      case 'trimSuffix':
        return text(1).endsWith(text(0)) ? text(1).slice(0, -text(0).length || undefined) : text(1);
      case 'contains':
        return text(1).includes(text(0));
      case 'replace':
        return text(2).split(text(0)).join(text(1));
      case 'printf':
        return sprintf(text(0), args.slice(1));
      case 'print':
        return args.map(printValue).join('');
      case 'quote':
        return JSON.stringify(printValue(args[0]));
      case 'toYaml':
        return toYaml(args[0]);
      case 'nindent':
        return `\n${indentLines(number(0), text(1))}`;
      case 'indent':
        return indentLines(number(0), text(1));
      case 'sha256sum':
        return createHash('sha256').update(text(0)).digest('hex');
      case 'int':
        return Math.trunc(Number(args[0] ?? 0));
      case 'not':
        return !truthy(args[0]);
      case 'and':
        return args.find((value) => !truthy(value)) ?? args[args.length - 1];
      case 'or':
        return args.find((value) => truthy(value)) ?? args[args.length - 1];
      case 'eq':
        return args.slice(1).some((value) => value === args[0]);
      case 'ne':
        return args[0] !== args[1];
      case 'gt':
        return number(0) > number(1);
      case 'lt':
        return number(0) < number(1);
      case 'has':
        return Array.isArray(args[1]) && args[1].includes(args[0]);
      case 'hasKey':
        return isMap(args[0]) && text(1) in args[0];
      case 'dig': {
        const map = args[args.length - 1];
        const fallback = args[args.length - 2];
        let value: Value = map;
        for (const key of args.slice(0, -2)) {
          if (!isMap(value) || !(printValue(key) in value)) return fallback;
          value = value[printValue(key)];
        }
        return value;
      }
      case 'fail':
        throw new TemplateFailure(text(0));
      default:
        throw new TemplateError(`function "${name}" is not supported by this renderer`);
    }
  }
}

function splitWords(tokens: ExprToken[]): ExprToken[][] {
  // Inside parentheses: the same grammar as a command without pipes.
  const words: ExprToken[][] = [];
  let index = 0;
  while (index < tokens.length) {
    const token = tokens[index] as ExprToken;
    if (token.kind === 'pipe') throw new TemplateError('pipes inside parentheses are not supported');
    if (token.kind === 'open') {
      const start = index;
      let depth = 0;
      do {
        const kind = (tokens[index] as ExprToken).kind;
        if (kind === 'open') depth += 1;
        if (kind === 'close') depth -= 1;
        index += 1;
      } while (depth > 0 && index < tokens.length);
      words.push(tokens.slice(start, index));
    } else {
      words.push([token]);
      index += 1;
    }
  }
  return words;
}
