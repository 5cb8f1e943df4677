import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../graph/embedded/embedded-store.js';
import {
  alertId,
  commitId,
  deployId,
  flagId,
  k8sId,
  repoId,
  serviceId,
  slackThreadId,
} from '../graph/ids.js';
import type { GraphStore } from '../graph/store.js';
import { ManualClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { contextFor, fixture, RECEIVED_AT, type FixtureSource } from '../../test/ingest/fixtures.js';
import { tempDir } from '../../test/kit/tmp.js';
import { changeKindOf, writeOrderKeys, writeSignal, PLACEHOLDER_CONFIDENCE } from './graph-writer.js';
import { GraphProjector } from './kubernetes/projector.js';
import type { ParseResult, WebhookHeaders } from './parse.js';
import { redact } from './redact/redact.js';
import { signalSchema, type Signal } from './signal.js';
import { parseAlertmanager } from './sources/alertmanager/parse.js';
import { parseDatadog } from './sources/datadog/parse.js';
import { parseGithub } from './sources/github/parse.js';
import { parsePagerDuty } from './sources/pagerduty/parse.js';
import { parseSlack } from './sources/slack/parse.js';

const CLUSTER = 'prod-eu1';
const PARSERS: Record<
  FixtureSource,
  (body: unknown, headers: WebhookHeaders, context: never) => ParseResult
> = {
  alertmanager: parseAlertmanager,
  datadog: parseDatadog,
  github: parseGithub,
  pagerduty: parsePagerDuty,
  slack: parseSlack,
};

/** The signals a recorded webhook body turns into, as the ingest edge queues them (redacted). */
function signalsOf(source: FixtureSource, name: string, headers: WebhookHeaders = {}): Signal[] {
  const { text, body } = fixture(source, name);
  const result = PARSERS[source](body, headers, contextFor(text, CLUSTER) as never);
  if ('error' in result) throw new Error(`${source}/${name}: ${result.error.message}`);
  return result.ok.map((signal) => redact(signal).value);
}

function only(signals: Signal[]): Signal {
  expect(signals).toHaveLength(1);
  return signals[0] as Signal;
}

let graph: GraphStore;
const clock = new ManualClock(RECEIVED_AT);

beforeEach(async () => {
  graph = await EmbeddedGraphStore.open({
    dataDir: tempDir(),
    fsync: 'never',
    logger: silentLogger(),
    clock,
  });
});
afterEach(async () => {
  await graph.close();
});

/** Everything the graph holds about some ids, to compare states. */
async function state(ids: readonly string[]): Promise<unknown> {
  return {
    stats: await graph.stats(),
    entities: await Promise.all(ids.map((id) => graph.get(id))),
    events: await Promise.all(ids.map((id) => graph.events(id))),
    edges: await Promise.all(ids.map((id) => graph.neighbors(id))),
  };
}

describe('writeSignal', () => {
  it('writes an Alertmanager alert: the Alert, AFFECTS edges to placeholders, a firing event; twice is once', async () => {
    const firing = only(signalsOf('alertmanager', 'kube-pod-crash-looping-firing'));
    const { entityIds } = await writeSignal(graph, firing, { clock });
    const alert = alertId('alertmanager', firing.fingerprint);
    const pod = k8sId(CLUSTER, 'default', 'Pod', 'payment-processing-worker-747ccfb9db-pd6wz');
    expect(entityIds).toContain(alert);
    expect(entityIds).toContain(pod);

    expect(await graph.get(alert)).toMatchObject({
      kind: 'Alert',
      name: 'KubePodCrashLooping',
      properties: {
        status: 'firing',
        severity: 'warning',
        summaryText: firing.summary,
        lastStatusAt: firing.observedAt,
        fingerprint: firing.fingerprint,
      },
      provenance: { source: 'alertmanager', confidence: 1 },
    });
    expect(await graph.get(pod)).toMatchObject({
      kind: 'Pod',
      properties: { placeholder: true, namespace: 'default', cluster: CLUSTER },
      provenance: { confidence: PLACEHOLDER_CONFIDENCE },
    });
    const affected = (await graph.neighbors(alert, { kinds: ['AFFECTS'], direction: 'out' })).map(
      (r) => r.entity.id,
    );
    expect(affected).toContain(pod);
    expect(await graph.events(alert)).toMatchObject([{ kind: 'alert-fired', at: firing.observedAt }]);

    const before = await state(entityIds);
    expect((await writeSignal(graph, firing, { clock })).entityIds).toEqual(entityIds);
    expect(await state(entityIds)).toEqual(before);
  });

  it('moves an alert to resolved, keeps both events, and a late firing signal does not reopen it', async () => {
    const firing = only(signalsOf('alertmanager', 'kube-pod-not-ready-firing'));
    const resolved = only(signalsOf('alertmanager', 'kube-pod-not-ready-resolved'));
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    await writeSignal(graph, firing, { clock });
    await writeSignal(graph, resolved, { clock });
    const alert = alertId('alertmanager', firing.fingerprint);
    expect((await graph.get(alert))?.properties).toMatchObject({
      status: 'resolved',
      lastStatusAt: resolved.observedAt,
      firstFiredAt: firing.observedAt,
    });
    await writeSignal(graph, firing, { clock });
    expect((await graph.get(alert))?.properties.status).toBe('resolved');
    expect((await graph.events(alert)).map((event) => event.kind).sort()).toEqual([
      'alert-fired',
      'alert-resolved',
    ]);
  });

  it('lets the Kubernetes ingest upgrade a placeholder, and a later signal never downgrades it', async () => {
    const firing = only(signalsOf('alertmanager', 'kube-pod-crash-looping-firing'));
    await writeSignal(graph, firing, { clock });
    const name = 'payment-processing-worker-747ccfb9db-pd6wz';
    const pod = k8sId(CLUSTER, 'default', 'Pod', name);
    const projector = new GraphProjector({
      cluster: CLUSTER,
      graph,
      clock,
      logger: silentLogger(),
      objects: () => [],
      configMap: () => undefined,
    });
    await projector.project(
      'pods',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', uid: 'u-1' },
        spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'payments:1' }] },
        status: { phase: 'Running', containerStatuses: [{ ready: false, restartCount: 7 }] },
      },
      false,
    );
    const upgraded = await graph.get(pod);
    expect(upgraded?.properties.placeholder).toBeUndefined();
    expect(upgraded).toMatchObject({
      properties: { phase: 'Running', restarts: 7 },
      provenance: { source: 'kubernetes', confidence: 1 },
    });
    await writeSignal(graph, firing, { clock });
    expect(await graph.get(pod)).toEqual(upgraded);
  });

  it('writes Datadog and PagerDuty alerts under their own sources', async () => {
    const datadog = only(signalsOf('datadog', 'monitor-triggered'));
    await writeSignal(graph, datadog, { clock });
    const datadogAlert = await graph.get(alertId('datadog', datadog.fingerprint));
    expect(datadogAlert).toMatchObject({
      kind: 'Alert',
      properties: { status: 'firing', alertSource: 'datadog' },
    });
    expect(
      (await graph.neighbors(datadogAlert?.id ?? '', { kinds: ['AFFECTS'], direction: 'out' })).length,
    ).toBe(datadog.entities.filter((ref) => ref.kind !== 'Alert').length);

    const triggered = only(signalsOf('pagerduty', 'incident-triggered'));
    const resolved = only(signalsOf('pagerduty', 'incident-resolved'));
    await writeSignal(graph, triggered, { clock });
    await writeSignal(graph, resolved, { clock });
    const incident = alertId('pagerduty', triggered.fingerprint);
    expect((await graph.get(incident))?.properties.status).toBe('resolved');
    // An acknowledgement is an event: a note on the alert.
    const acknowledged = only(signalsOf('pagerduty', 'incident-acknowledged'));
    await writeSignal(graph, acknowledged, { clock });
    expect((await graph.events(incident)).map((event) => event.kind)).toContain('note');
  });

  it('turns a GitHub deployment and its status into one Deploy, introduced by its commit', async () => {
    const created = only(signalsOf('github', 'deployment-created', { 'x-github-event': 'deployment' }));
    const status = only(
      signalsOf('github', 'deployment-status-success', { 'x-github-event': 'deployment_status' }),
    );
    expect(changeKindOf(created)).toBe('deploy');
    await writeSignal(graph, created, { clock });
    await writeSignal(graph, status, { clock });
    const repo = repoId('github.com', 'Codertocat/Hello-World');
    const deploy = deployId(repo, '145988746');
    expect(await graph.get(deploy)).toMatchObject({
      kind: 'Deploy',
      properties: {
        state: 'success',
        sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
        deploymentId: 145988746,
      },
    });
    const commit = commitId(
      'github.com',
      'Codertocat/Hello-World',
      'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
    );
    expect(
      (await graph.neighbors(commit, { kinds: ['INTRODUCED'], direction: 'out' })).map((r) => r.entity.id),
    ).toEqual([deploy]);
    const events = await graph.events(deploy, { kinds: ['deploy'] });
    expect(events).toHaveLength(1);
    expect(events[0]?.properties.state).toBe('success');

    // A push is no deploy: a note on the repository.
    const push = only(signalsOf('github', 'push-new-branch', { 'x-github-event': 'push' }));
    expect(changeKindOf(push)).toBe('other');
    await writeSignal(graph, push, { clock });
    expect((await graph.events(repo, { kinds: ['note'] })).length).toBe(1);
    expect((await graph.stats()).entitiesByKind.Deploy).toBe(1);
  });

  it('names what must be written in order: an alert, a deployment and its statuses, a thread', () => {
    const created = only(signalsOf('github', 'deployment-created', { 'x-github-event': 'deployment' }));
    const status = only(
      signalsOf('github', 'deployment-status-success', { 'x-github-event': 'deployment_status' }),
    );
    const shared = (a: Signal, b: Signal): string[] =>
      writeOrderKeys(a).filter((key) => writeOrderKeys(b).includes(key));
    // Their fingerprints differ, but both write the one Deploy and its one event.
    expect(created.fingerprint).not.toBe(status.fingerprint);
    expect(shared(created, status)).toEqual([
      deployId(repoId('github.com', 'Codertocat/Hello-World'), '145988746'),
    ]);
    const firing = only(signalsOf('alertmanager', 'kube-pod-crash-looping-firing'));
    expect(writeOrderKeys(firing)).toContain(alertId(firing.source, firing.fingerprint));
    expect(shared(firing, created)).toEqual([]);
    const reply = only(signalsOf('slack', 'message-thread-reply'));
    expect(writeOrderKeys(reply)).toContain(reply.entities[0]?.id);
  });

  it('writes a Slack message as its thread, with MENTIONS of Services it names', async () => {
    await graph.upsertEntities([
      { id: serviceId('checkout'), kind: 'Service', name: 'checkout', source: 'kubernetes' },
      { id: serviceId('redis-session'), kind: 'Service', name: 'redis-session', source: 'kubernetes' },
    ]);
    const reply = only(signalsOf('slack', 'message-thread-reply'));
    const { entityIds } = await writeSignal(graph, reply, { clock });
    const thread = reply.entities[0]?.id ?? '';
    expect(thread).toBe(
      slackThreadId(reply.attributes.channel as string, reply.attributes.threadTs as string),
    );
    expect(entityIds).toEqual([serviceId('checkout'), thread].sort());
    expect(await graph.get(thread)).toMatchObject({
      kind: 'SlackThread',
      properties: { channel: reply.attributes.channel, lastMessageAt: reply.observedAt },
    });
    const mentions = await graph.neighbors(thread, { kinds: ['MENTIONS'], direction: 'out' });
    expect(mentions.map((reached) => [reached.entity.id, reached.path[0]?.confidence])).toEqual([
      [serviceId('checkout'), 0.7],
    ]);
    expect(await graph.events(thread)).toMatchObject([{ kind: 'note', summary: reply.summary }]);
    expect(await writeSignal(graph, reply, { clock, mentions: false })).toEqual({ entityIds: [thread] });
  });

  it('keeps redacted text redacted', async () => {
    const { text } = fixture('slack', 'message-thread-reply');
    const leaky = JSON.parse(
      text.replace('this might be the eviction again', 'token xoxb-1234567890-abcdefghijklmnop'),
    ) as unknown;
    const result = parseSlack(leaky, {}, contextFor(text, CLUSTER));
    if ('error' in result) throw new Error(result.error.message);
    const signal = redact(only(result.ok)).value;
    expect(signal.summary).toContain('[REDACTED');
    await writeSignal(graph, signal, { clock });
    const thread = signal.entities[0]?.id ?? '';
    const stored = JSON.stringify([await graph.get(thread), await graph.events(thread)]);
    expect(stored).toContain('[REDACTED');
    expect(stored).not.toContain('xoxb-1234567890');
  });

  it('records config changes and flag flips named by a change signal', async () => {
    const configMap = k8sId(CLUSTER, 'shop', 'ConfigMap', 'checkout-config');
    const workload = k8sId(CLUSTER, 'shop', 'Deployment', 'checkout');
    const base = {
      v: 1,
      source: 'sim',
      kind: 'change',
      severity: 'info',
      observedAt: RECEIVED_AT - 1000,
      receivedAt: RECEIVED_AT,
      raw: { source: 'test', digest: `sha256:${'0'.repeat(64)}` },
    } as const;
    const config = signalSchema.parse({
      ...base,
      id: 'sig_config',
      fingerprint: 'config/checkout',
      summary: 'checkout-config changed',
      entities: [
        { kind: 'ConfigMap', id: configMap, name: 'checkout-config' },
        { kind: 'Workload', id: workload, name: 'checkout' },
      ],
      attributes: { changeType: 'config', fromHash: 'sha256:a', toHash: 'sha256:b' },
    });
    await writeSignal(graph, config, { clock });
    const changes = await graph.neighbors(configMap, { kinds: ['CHANGED'], direction: 'in' });
    expect(changes.map((reached) => reached.entity.kind)).toEqual(['ConfigChange']);
    expect(await graph.events(configMap, { kinds: ['config-change'] })).toHaveLength(1);
    expect(await graph.events(workload, { kinds: ['config-change'] })).toHaveLength(1);

    const flag = flagId('sim', 'new-pricing');
    const flip = signalSchema.parse({
      ...base,
      id: 'sig_flag',
      fingerprint: 'flag/new-pricing',
      summary: 'new-pricing set to true',
      entities: [{ kind: 'FeatureFlag', id: flag, name: 'new-pricing' }],
      attributes: { value: true, previous: false },
    });
    await writeSignal(graph, flip, { clock });
    expect(await graph.events(flag)).toMatchObject([
      { kind: 'flag-flip', properties: { value: true, previous: false } },
    ]);
    const recent = await graph.recentChanges([flag], { window: '1h', now: RECEIVED_AT });
    expect(recent.map((change) => change.event.kind)).toEqual(['flag-flip']);
  });
});
