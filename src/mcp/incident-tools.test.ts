import { describe, expect, it } from 'vitest';
import { hypothesisTree } from './incident-tools.js';
import type { Hypothesis } from './types.js';

function hypothesis(id: string, confidence: number, parentId?: string): Hypothesis {
  return { id, statement: id, status: 'open', confidence, evidence: [], ...(parentId ? { parentId } : {}) };
}

describe('hypothesisTree', () => {
  it('nests children under parents, orders siblings by confidence, and roots orphans and cycles', () => {
    const tree = hypothesisTree([
      hypothesis('b', 0.2),
      hypothesis('a', 0.9),
      hypothesis('a2', 0.3, 'a'),
      hypothesis('a1', 0.6, 'a'),
      hypothesis('orphan', 0.5, 'missing'),
      hypothesis('x', 0.1, 'y'),
      hypothesis('y', 0.1, 'x'),
    ]);
    const shape = (nodes: typeof tree): unknown =>
      nodes.map((node) => (node.children.length ? { [node.id]: shape(node.children) } : node.id));
    expect(shape(tree)).toEqual([{ a: ['a1', 'a2'] }, 'orphan', 'b', 'x', 'y']);
  });
});
