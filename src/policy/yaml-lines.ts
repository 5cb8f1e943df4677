import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** Where a path into a parsed YAML document sits: the line of its key (or item), 1-based. */
export interface Located {
  line: number;
  /** The value node the path reaches, when it exists. */
  value?: Node;
}

/**
 * Finds the line for a path such as `['spec', 'rules', 3, 'when']`. When the path goes past
 * what the document holds (a missing key), the deepest existing part is used.
 */
export function locate(document: Document, lines: LineCounter, path: ReadonlyArray<PropertyKey>): Located {
  const lineAt = (node: { range?: readonly number[] | null } | null | undefined, fallback: number): number =>
    node?.range ? lines.linePos(node.range[0] ?? 0).line : fallback;
  let node: unknown = document.contents;
  let line = lineAt(document.contents, 1);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return { line };
      line = lineAt(isScalar(pair.key) ? pair.key : null, line);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return { line };
      line = lineAt(item, line);
      node = item;
    } else {
      return { line };
    }
  }
  return node !== null && typeof node === 'object' ? { line, value: node as Node } : { line };
}

/**
 * The file line of line `expressionLine` (1-based) inside a scalar's text: block literals (`|`)
 * keep their lines and start below the indicator; plain and quoted scalars start on their own
 * line; folded blocks (`>`) join lines, so their first content line is the best answer.
 */
export function lineInScalar(
  node: Node | undefined,
  lines: LineCounter,
  keyLine: number,
  expressionLine: number,
): number {
  if (!node || !isScalar(node) || !node.range) return keyLine;
  const start = lines.linePos(node.range[0]).line;
  switch (node.type) {
    case 'BLOCK_LITERAL':
      return start + expressionLine;
    case 'BLOCK_FOLDED':
      return start + 1;
    default:
      return start + expressionLine - 1;
  }
}
