import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { alertId, serviceId } from '../../src/graph/ids.js';
import { createQueueSink, type QueueSink } from '../../src/ingest/queue-sink.js';
import { replay } from '../../src/loop/incident-lifecycle.js';
import type { Incident } from '../../src/loop/pipeline-types.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import {
  effectCounts,
  makeSignal,
  openGraph,
  podRef,
  restartProposal,
  startLoopWorld,
  type LoopWorld,
  type Script,
} from './support/loop-world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(
  script: Script = {},
  extra: Partial<Parameters<typeof startLoopWorld>[0]> = {},
): Promise<LoopWorld> {
  const graph = await openGraph(tempDir());
  const started = await startLoopWorld({
    redisUrl: inject('redisUrl'),
    prefix: testPrefix(import.meta.filename),
    graph,
    script,
    ...extra,
  });
  cleanups.push(async () => {
    await started.stop();
    await graph.close();
  });
  return started;
}

/** A world and an ingest sink on its queues, for deliveries of several signals. */
async function worldWithSink(
  script: Script = {},
  extra: Partial<Parameters<typeof startLoopWorld>[0]> = {},
): Promise<{ loop: LoopWorld; sink: QueueSink; prefix: string }> {
  const prefix = testPrefix(import.meta.filename);
  const loop = await world(script, { ...extra, prefix });
  const sink = createQueueSink({ connection: loop.redis, prefix });
  cleanups.push(() => sink.close());
  return { loop, sink, prefix };
}

async function incidentIn(loop: LoopWorld, state: Incident['state'], count = 1): Promise<Incident[]> {
  let found: Incident[] = [];
  await waitFor(
    async () => {
      found = await loop.pipeline.incidents.list({ states: [state] });
      return found.length >= count;
    },
    15_000,
    50,
  );
  return found;
}

/** A world whose policy asks for approval, and an incident of `fingerprint` waiting for it. */
async function awaitingApproval(
  fingerprint: string,
): Promise<{ loop: LoopWorld; prefix: string; waiting: Incident }> {
  const prefix = testPrefix(import.meta.filename);
  const loop = await world(
    { decide: () => ({ mode: 'approval', rule: 'prod-needs-approval', reason: 'production' }) },
    { prefix },
  );
  await loop.pipeline.submitSignal(makeSignal({ fingerprint }));
  const [waiting] = await incidentIn(loop, 'awaiting-approval');
  if (!waiting) throw new Error('no incident');
  return { loop, prefix, waiting };
}

describe('the loop', () => {
  it('takes a firing alert through investigate, an autonomous action, verify and learn, once each', async () => {
    const prefix = testPrefix(import.meta.filename);
    const graph = await openGraph(tempDir());
    const loop = await startLoopWorld({ redisUrl: inject('redisUrl'), prefix, graph });
    cleanups.push(async () => {
      await loop.stop();
      await graph.close();
    });
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'CheckoutDown', severity: 'error' }));
    const [incident] = await incidentIn(loop, 'resolved');
    if (!incident) throw new Error('no incident');
    await waitFor(async () => (await effectCounts(loop.redis, prefix, incident.key)).learn === 1, 5_000, 50);
    expect(await effectCounts(loop.redis, prefix, incident.key)).toEqual({
      investigate: 1,
      respond: 1,
      execute: 1,
      verify: 1,
      escalate: 0,
      learn: 1,
    });
    expect(incident.transitions.map((entry) => entry.to)).toEqual([
      'investigating',
      'acting',
      'verifying',
      'resolved',
    ]);
    expect(replay(incident.transitions)).toEqual({ state: 'resolved' });
    expect(incident.transitions[1]?.by).toEqual({ kind: 'policy', id: 'restart-is-safe' });
    expect(incident.rootCause?.category).toBe('deploy');
    expect(incident.report).toBe('# report');
    expect(incident.severity).toBe('error');

    const affects = await graph.neighbors(incident.id, { kinds: ['AFFECTS'], direction: 'out' });
    expect(affects.map((one) => one.entity.id)).toEqual([podRef('checkout-1').id]);
    const triggered = await graph.neighbors(incident.id, { kinds: ['TRIGGERED_BY'], direction: 'out' });
    expect(triggered.map((one) => one.entity.kind)).toEqual(['Alert']);

    const queue = new Queue('execute', { connection: loop.redis, prefix });
    const job = await queue.getJob(`${incident.key}:execute:1-0`);
    expect(job?.data).toMatchObject({ v: 1, incidentKey: incident.key, round: 1, proposalIndex: 0 });
    await queue.close();
  });

  it('correlates by fingerprint and by graph proximity, and resolves only when every signal has cleared', async () => {
    const loop = await world({ decide: () => ({ mode: 'approval', reason: 'needs a human' }) });
    const service = serviceId('checkout');
    await loop.graph.upsertEntities([
      { id: service, kind: 'Service', name: 'checkout', source: 'test' },
      { id: podRef('checkout-1').id, kind: 'Pod', name: 'checkout-1', source: 'test' },
      { id: podRef('checkout-2').id, kind: 'Pod', name: 'checkout-2', source: 'test' },
      { id: podRef('billing-1').id, kind: 'Pod', name: 'billing-1', source: 'test' },
    ]);
    await loop.graph.upsertRelationships([
      { kind: 'SELECTS', from: service, to: podRef('checkout-1').id, source: 'test' },
      { kind: 'SELECTS', from: service, to: podRef('checkout-2').id, source: 'test' },
    ]);
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'A', entities: [podRef('checkout-1')] }));
    const [first] = await incidentIn(loop, 'awaiting-approval');
    if (!first) throw new Error('no incident');
    // a neighbour two hops away joins; an unrelated pod opens its own; the resolutions join by fingerprint
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'B', entities: [podRef('checkout-2')] }));
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'C', entities: [podRef('billing-1')] }));
    await waitFor(async () => (await loop.pipeline.incidents.list()).length === 2, 10_000, 50);
    await waitFor(async () => (await loop.pipeline.incidents.get(first.key))?.signals.size === 2, 10_000, 50);

    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'A', status: 'resolved', entities: [podRef('checkout-1')] }),
    );
    await waitFor(
      async () =>
        [...((await loop.pipeline.incidents.get(first.key))?.signals.values() ?? [])].includes('resolved'),
      10_000,
      50,
    );
    expect((await loop.pipeline.incidents.get(first.key))?.state).toBe('awaiting-approval');
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'B', status: 'resolved', entities: [podRef('checkout-2')] }),
    );
    const [resolved] = await incidentIn(loop, 'resolved');
    expect(resolved?.key).toBe(first.key);
    expect(resolved?.transitions.at(-1)?.by.kind).toBe('signal');
    expect(resolved?.notes.filter((note) => note.what === 'signal-attached')).toHaveLength(1);
  });

  it('takes a delivery of many signals as one ingest and one detect job, one incident per failure', async () => {
    const { loop, sink, prefix } = await worldWithSink({
      decide: () => ({ mode: 'approval', reason: 'needs a human' }),
    });
    const { graph } = loop;
    const service = serviceId('checkout');
    await graph.upsertEntities([
      { id: service, kind: 'Service', name: 'checkout', source: 'test' },
      ...[1, 2, 3].map((n) => ({
        id: podRef(`checkout-${n}`).id,
        kind: 'Pod' as const,
        name: `checkout-${n}`,
        source: 'test',
      })),
    ]);
    await graph.upsertRelationships(
      [1, 2, 3].map((n) => ({
        kind: 'SELECTS' as const,
        from: service,
        to: podRef(`checkout-${n}`).id,
        source: 'test',
      })),
    );
    // Five alerts of one failure (three pods of one service), one elsewhere, one info heartbeat.
    const group = [1, 2, 3, 1, 2].map((n, index) =>
      makeSignal({ fingerprint: `Checkout${index}`, entities: [podRef(`checkout-${n}`)] }),
    );
    const elsewhere = makeSignal({ fingerprint: 'Billing', entities: [podRef('billing-1')] });
    const heartbeat = makeSignal({ fingerprint: 'Watchdog', severity: 'info', entities: [] });
    expect(await sink.accept([...group, elsewhere, heartbeat], { channel: 'test' })).toEqual({
      accepted: 7,
      deduplicated: 0,
    });
    const incidents = await incidentIn(loop, 'awaiting-approval', 2);
    const checkout = incidents.find((incident) => incident.signalIds.includes(group[0]?.id ?? ''));
    const billing = incidents.find((incident) => incident.signalIds.includes(elsewhere.id));
    expect(checkout?.signalIds).toEqual(group.map((signal) => signal.id));
    expect(checkout?.signals.size).toBe(5);
    expect(checkout?.notes.filter((note) => note.what === 'signal-attached')).toHaveLength(4);
    expect(billing?.signalIds).toEqual([elsewhere.id]);
    expect(incidents.some((incident) => incident.signalIds.includes(heartbeat.id))).toBe(false);
    const counts = async (name: string): Promise<number> => {
      const queue = new Queue(name, { connection: loop.redis, prefix });
      try {
        const jobs = await queue.getJobCounts('completed', 'active', 'waiting', 'delayed', 'failed');
        return Object.values(jobs).reduce((sum, count) => sum + count, 0);
      } finally {
        await queue.close();
      }
    };
    expect(await counts('ingest')).toBe(1);
    expect(await counts('detect')).toBe(1);
    expect(await counts('investigate')).toBe(2);
    expect((await effectCounts(loop.redis, prefix, checkout?.key ?? '')).investigate).toBe(1);
  });

  it('leaves out a signal the graph refuses for good and takes the rest of its delivery on', async () => {
    const registry = new Registry();
    const { loop, sink } = await worldWithSink({}, { registry });
    const { graph } = loop;
    const refused = makeSignal({ fingerprint: 'Refused', entities: [podRef('odd-1')] });
    const fine = makeSignal({ fingerprint: 'Fine', entities: [podRef('fine-1')] });
    // The id the refused alert's Alert entity would take already names a Service: an id keeps its kind.
    await graph.upsertEntities([
      { id: alertId(refused.source, refused.fingerprint), kind: 'Service', name: 'odd', source: 'test' },
    ]);
    await sink.accept([refused, fine], { channel: 'test' });
    const [incident] = await incidentIn(loop, 'resolved');
    expect(incident?.signalIds).toEqual([fine.id]);
    expect(await registry.metrics()).toMatch(/nightshift_loop_signals_total\{outcome="rejected"\} 1/);
    expect((await loop.pipeline.incidents.list()).some((one) => one.signalIds.includes(refused.id))).toBe(
      false,
    );
  });

  it('executes an approved proposal only after a person approves it', async () => {
    const { loop, prefix, waiting } = await awaitingApproval('NeedsApproval');
    expect((await effectCounts(loop.redis, prefix, waiting.key)).execute).toBe(0);
    const wrong = await loop.pipeline.approve(waiting.key, 1, 'U1');
    expect('error' in wrong && wrong.error).toContain('does not await');
    expect(await loop.pipeline.approve(waiting.key, 0, 'U123')).toEqual({ ok: true });
    expect('error' in (await loop.pipeline.approve(waiting.key, 0, 'U123'))).toBe(true);
    const [done] = await incidentIn(loop, 'resolved');
    expect(done?.transitions.find((entry) => entry.to === 'acting')?.by).toEqual({
      kind: 'person',
      id: 'U123',
    });
    expect((await effectCounts(loop.redis, prefix, waiting.key)).execute).toBe(1);
  });

  it('executes an approval whose execute job a stop kept from being queued, once started again', async () => {
    const { loop, prefix, waiting } = await awaitingApproval('ApprovedThenStopped');
    // What approve does before it queues the execution: the process ends right after it.
    await loop.pipeline.incidents.transition(
      waiting.key,
      'acting',
      { kind: 'person', id: 'U7' },
      'approved proposal 0',
      { from: ['awaiting-approval'] },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await loop.pipeline.incidents.get(waiting.key))?.state).toBe('acting');
    expect((await effectCounts(loop.redis, prefix, waiting.key)).execute).toBe(0);

    await loop.pipeline.start();
    const [done] = await incidentIn(loop, 'resolved');
    expect(done?.key).toBe(waiting.key);
    expect((await effectCounts(loop.redis, prefix, waiting.key)).execute).toBe(1);
    // Started once more, nothing runs again.
    await loop.pipeline.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await effectCounts(loop.redis, prefix, waiting.key)).execute).toBe(1);
  });

  it('learns an escalated incident again once its alerts clear and resolve it', async () => {
    const prefix = testPrefix(import.meta.filename);
    const failing = await world({ verifyOk: false }, { prefix });
    const firing = makeSignal({ fingerprint: 'EscalatedThenCleared', entities: [podRef('late-clear-1')] });
    await failing.pipeline.submitSignal(firing);
    const [escalated] = await incidentIn(failing, 'escalated');
    if (!escalated) throw new Error('no incident');
    await waitFor(
      async () => (await effectCounts(failing.redis, prefix, escalated.key)).learn === 1,
      10_000,
      50,
    );

    await failing.pipeline.submitSignal(
      makeSignal({
        fingerprint: 'EscalatedThenCleared',
        status: 'resolved',
        entities: [podRef('late-clear-1')],
        observedAt: firing.observedAt + 1_000,
      }),
    );
    const [resolved] = await incidentIn(failing, 'resolved');
    expect(resolved?.key).toBe(escalated.key);
    await waitFor(
      async () => (await effectCounts(failing.redis, prefix, escalated.key)).learn === 2,
      10_000,
      50,
    );
  });

  it('escalates when the policy denies everything, and when verification fails', async () => {
    const denied = await world({ decide: () => ({ mode: 'deny', reason: 'forbidden' }) });
    await denied.pipeline.submitSignal(makeSignal({ fingerprint: 'Denied' }));
    const [escalated] = await incidentIn(denied, 'escalated');
    expect(escalated?.transitions.at(-1)?.reason).toContain('policy denied every proposal');

    const failing = await world({ verifyOk: false });
    await failing.pipeline.submitSignal(makeSignal({ fingerprint: 'StillBroken' }));
    const [unverified] = await incidentIn(failing, 'escalated');
    expect(unverified?.transitions.map((entry) => entry.to)).toEqual([
      'investigating',
      'acting',
      'verifying',
      'escalated',
    ]);
  });

  it('notes shadow suggestions without acting, and pages a person with them', async () => {
    const prefix = testPrefix(import.meta.filename);
    const loop = await world({ decide: () => ({ mode: 'shadow', reason: 'shadow mode' }) }, { prefix });
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Shadowed' }));
    let incident: Incident | undefined;
    await waitFor(
      async () => {
        [incident] = await loop.pipeline.incidents.list();
        return incident?.state === 'escalated';
      },
      10_000,
      50,
    );
    expect(incident?.notes.find((note) => note.what === 'suggested')?.reason).toContain(
      restartProposal.action,
    );
    expect(incident?.transitions.at(-1)?.reason).toMatch(/^shadow mode: nightshift only suggested /);
    const counts = await effectCounts(loop.redis, prefix, incident?.key ?? '');
    expect(counts).toMatchObject({ execute: 0, escalate: 1 });
  });

  it('retries a failing step with backoff, and keeps and counts a job that fails for good', async () => {
    const prefix = testPrefix(import.meta.filename);
    const graph = await openGraph(tempDir());
    const registry = new Registry();
    const loop = await startLoopWorld({
      redisUrl: inject('redisUrl'),
      prefix,
      graph,
      registry,
      script: { failFirst: { execute: 2 }, alwaysFail: 'learn' },
      settings: { attempts: 3, backoffMs: 20 },
    });
    cleanups.push(async () => {
      await loop.stop();
      await graph.close();
    });
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Flaky' }));
    const [resolved] = await incidentIn(loop, 'resolved');
    if (!resolved) throw new Error('no incident');
    expect((await effectCounts(loop.redis, prefix, resolved.key)).execute).toBe(1);
    const learn = new Queue('learn', { connection: loop.redis, prefix });
    await waitFor(async () => (await learn.getJobCounts('failed')).failed === 1, 10_000, 50);
    const failed = await learn.getJob(`${resolved.key}:learn:1`);
    expect(failed?.attemptsMade).toBe(3);
    await learn.close();
    const text = await registry.metrics();
    expect(text).toMatch(/nightshift_loop_job_failures_total\{stage="execute"\} 2/);
    expect(text).toMatch(/nightshift_loop_job_failures_total\{stage="learn"\} 3/);
    expect(text).toMatch(/nightshift_loop_queue_depth\{stage="learn",state="failed"\} 1/);
    expect(text).toMatch(/nightshift_loop_incidents\{state="resolved"\} 1/);
    expect(text).toMatch(/nightshift_loop_intervention_latency_seconds_count 1/);
    expect(text).toMatch(
      /nightshift_loop_job_duration_seconds_count\{stage="verify",outcome="completed"\} 1/,
    );
  });
});
