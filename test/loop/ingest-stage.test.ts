import { describe, expect, it } from 'vitest';
import { alertId } from '../../src/graph/ids.js';
import { writeSignal } from '../../src/ingest/graph-writer.js';
import type { Signal } from '../../src/ingest/signal.js';
import type { LoopContext } from '../../src/loop/stages/context.js';
import { ingestStage } from '../../src/loop/stages/ingest.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openTestGraph } from '../kit/graph.js';
import { makeSignal, podRef } from './support/loop-world.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ingest stage', () => {
  it('writes a delivery several signals at a time, but an alert’s own signals in order', async () => {
    const graph = await openTestGraph();
    try {
      const at = Date.now();
      // The same alert fires and resolves in one delivery, at the same instant: only the order of
      // the writes decides which status stands. Its firing is the slowest write of the batch.
      const firing = makeSignal({ fingerprint: 'Twice', observedAt: at, entities: [podRef('twice-1')] });
      const resolved = makeSignal({
        fingerprint: 'Twice',
        status: 'resolved',
        observedAt: at,
        entities: [podRef('twice-1')],
      });
      const others = ['One', 'Two', 'Three'].map((fingerprint) =>
        makeSignal({ fingerprint, observedAt: at, entities: [podRef(`${fingerprint.toLowerCase()}-1`)] }),
      );
      const delivery = [firing, others[0], resolved, others[1], others[2]] as Signal[];
      const log: string[] = [];
      const context = {
        deps: {
          persistSignal: async (signal: Signal) => {
            log.push(`start ${signal.fingerprint} ${signal.status ?? ''}`);
            await pause(signal === firing ? 40 : 5);
            const result = await writeSignal(graph, signal, { clock: systemClock });
            log.push(`end ${signal.fingerprint} ${signal.status ?? ''}`);
            return result;
          },
        },
        logger: silentLogger(),
      } as unknown as LoopContext;

      const next = await ingestStage.handle(
        { v: 2, signals: delivery },
        context,
        new AbortController().signal,
      );

      const alert = await graph.get(alertId(firing.source, 'Twice'));
      expect(alert?.properties.status).toBe('resolved');
      expect(log.indexOf('end Twice firing')).toBeLessThan(log.indexOf('start Twice resolved'));
      // the other alerts did not wait for the slow one
      expect(log.indexOf('end One firing')).toBeLessThan(log.indexOf('end Twice firing'));
      expect(next).toMatchObject({ stage: 'detect', payload: { v: 2 } });
      const items = (next as unknown as { payload: { items: Array<{ signal: Signal }> } }).payload.items;
      expect(items.map((item) => item.signal.id)).toEqual(delivery.map((signal) => signal.id));
    } finally {
      await graph.close();
    }
  });
});
