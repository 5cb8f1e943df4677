import { allSignalsCleared, type IncidentState } from '../incident-lifecycle.js';
import { fingerprintDigest, type AttachedSignal } from '../incident-store.js';
import { batchKey } from '../../ingest/sink.js';
import { detectPayload, loopJobId, type DetectItem } from '../payloads.js';
import type { Signal } from '../../ingest/signal.js';
import type { Incident } from '../pipeline-types.js';
import { assessSeverity, graphReach, trendFromAttributes, type SeverityAssessment } from '../severity.js';
import type { LoopStage, NextJob } from '../stage.js';
import { learnJob, stageActor, type LoopContext } from './context.js';

const actor = stageActor('detect');

/** States from which clearing signals resolve an incident; in acting/verifying, verify decides. */
const CLEARABLE: readonly IncidentState[] = ['open', 'investigating', 'awaiting-approval', 'escalated'];

/**
 * detect: drops noise (flapping, silences, maintenance, learned patterns), then places the job's
 * signals in order, each seeing the ones before it: the open incident with its fingerprint, one
 * nearby in the graph within the window, or a new one. The placements and their index entries are
 * decided and recorded in one atomic step, so replicas agree. Each incident is then written once
 * for the signals placed in it, under its own lock: opened by the first if new, the others
 * attached. Severity comes from the signal, SLO impact, blast radius and trend; a raise is noted
 * in the timeline. A resolution that clears every contributing signal resolves the incident. The
 * outcome is recorded per incident and group of signals, so a redelivered job goes on where it was.
 */
export const detectStage: LoopStage<typeof detectPayload, LoopContext> = {
  name: 'detect',
  payload: detectPayload,
  async handle(payload, context) {
    if (payload.v === 1 && payload.held) {
      // The second look at a held warning: if it cleared meanwhile it was a transient.
      const { signal, entityIds } = payload;
      if ((await context.noise.lastStatus(signal.fingerprint)) === 'resolved') {
        context.metrics?.signals.inc({ outcome: 'ignored' });
        context.logger.debug({ signalId: signal.id }, 'held warning resolved before it opened anything');
        return undefined;
      }
      return placeAgain([{ signal, entityIds }], context, true);
    }
    const items =
      payload.v === 2 ? payload.items : [{ signal: payload.signal, entityIds: payload.entityIds }];
    const kept: DetectItem[] = [];
    const verdicts = await context.noise.judgeAll(items.map(({ signal }) => signal));
    for (const [index, item] of items.entries()) {
      const { signal } = item;
      const verdict = verdicts[index] ?? { suppressed: false };
      if (!verdict.suppressed) {
        kept.push(item);
        continue;
      }
      context.metrics?.suppressed.inc({ reason: verdict.reason });
      context.metrics?.signals.inc({ outcome: 'suppressed' });
      context.logger.debug(
        { signalId: signal.id, reason: verdict.reason, detail: verdict.detail },
        'signal suppressed',
      );
    }
    return kept.length > 0 ? placeAgain(kept, context, false) : undefined;
  },
};

/**
 * Places the signals; a placement into an incident that resolved meanwhile is cleared and the
 * signals placed again at once, rather than after a retry's backoff (incidents already written
 * for some of them replay from the step ledger); only a repeat of that fails the attempt.
 */
async function placeAgain(
  items: readonly DetectItem[],
  context: LoopContext,
  held: boolean,
): Promise<NextJob[]> {
  const learn: NextJob[] = [];
  for (let tries = 1; ; tries++) {
    try {
      return [...learn, ...(await place(items, context, held))];
    } catch (error) {
      if (!(error instanceof ClosedIncident) || tries >= 3) throw error;
      if (error.learn) learn.push(error.learn);
    }
  }
}

/**
 * Whether a signal that would open an incident waits first, in case it is a transient. A warning
 * that carries its own trend (a forecast fitted over many minutes) is no transient: it goes on.
 */
function holdable(signal: Signal, context: LoopContext, held: boolean): boolean {
  return (
    !held &&
    context.transientHoldMs > 0 &&
    signal.kind === 'alert' &&
    signal.status === 'firing' &&
    (signal.severity === 'warning' || signal.severity === 'info') &&
    trendFromAttributes(signal) === undefined
  );
}

/**
 * The index pointed at a resolved incident; its entries (and the signals') have been cleared.
 * Carries the incident's learn job when signals resolved it: the job that resolved it may have
 * died before recording that, and its replay (this one, or a later one that finds its signals
 * placed elsewhere) would queue nothing (the job id makes a second add a no-op).
 */
class ClosedIncident extends Error {
  constructor(
    message: string,
    readonly learn?: NextJob,
  ) {
    super(message);
  }
}

/** A signal being placed: its Alert entity apart from the entities it is a symptom on. */
interface Part {
  signal: Signal;
  entityIds: readonly string[];
  alertId: string | undefined;
  symptoms: string[];
}

/** Places the signals in order (atomically, in Redis), then opens or joins each incident once. */
async function place(items: readonly DetectItem[], context: LoopContext, held: boolean): Promise<NextJob[]> {
  const parts: Part[] = items.map(({ signal, entityIds }) => {
    const alertId = entityIds.find((entityId) => entityId.startsWith('alert:'));
    return { signal, entityIds, alertId, symptoms: entityIds.filter((entityId) => entityId !== alertId) };
  });
  const placements = await context.correlator.placeAll(
    parts.map(({ signal, symptoms }) => ({
      signal,
      entityIds: symptoms,
      holdIfNew: holdable(signal, context, held),
    })),
  );
  const next: NextJob[] = [];
  const groups = new Map<string, Part[]>();
  placements.forEach((placement, index) => {
    const part = parts[index];
    if (!part) return;
    if (placement.kind === 'hold') {
      context.metrics?.signals.inc({ outcome: 'held' });
      next.push({
        stage: 'detect',
        payload: { v: 1, signal: part.signal, entityIds: [...part.entityIds], held: true },
        jobId: `${part.signal.id}:detect:held`,
        delayMs: context.transientHoldMs,
      });
    } else if (placement.kind === 'none') {
      context.metrics?.signals.inc({ outcome: 'ignored' });
    } else {
      const group = groups.get(placement.incidentKey) ?? [];
      group.push(part);
      groups.set(placement.incidentKey, group);
    }
  });
  // Every incident is written before any failure is passed on, so a retry never overlaps one.
  const settled = await Promise.allSettled(
    [...groups].map(([key, group]) => joinIncident(key, group, context)),
  );
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    if (outcome.value) next.push(outcome.value);
  }
  return next;
}

/**
 * Opens the incident with the group's first signal when it is new, attaches the others in one
 * write, raises its severity where the assessments say so, and settles what comes next: once per
 * incident and group (`detect-<batchKey of the group>`, the signal id for one).
 */
async function joinIncident(
  key: string,
  group: readonly Part[],
  context: LoopContext,
): Promise<NextJob | undefined> {
  const [first] = group;
  const last = group.at(-1);
  if (!first || !last) return undefined;
  await context.ledger.putMany(
    key,
    group.map(({ signal }) => [`signal-${signal.id}`, signal]),
  );
  const step = `detect-${batchKey(group.map(({ signal }) => signal))}`;
  const { value } = await context.ledger.once<Settled>(key, step, async () => {
    // Assessed only when the step runs: a replayed one has its outcome recorded.
    const reach = graphReach(context.graph, context.severity);
    const assessments = await Promise.all(
      group.map(async ({ signal, symptoms }) => {
        const trend = (await context.deps.trend?.(signal)) ?? trendFromAttributes(signal);
        return assessSeverity(reach, signal, symptoms, trend, context.severity);
      }),
    );
    const attached = ({ signal, symptoms, alertId }: Part): AttachedSignal => ({
      signal,
      entityIds: symptoms,
      ...(alertId ? { alertId } : {}),
      by: { kind: 'signal', id: signal.id },
    });
    // One write opens the incident with the first signal (or finds it) and attaches the others.
    const opened = await context.store.open(
      {
        key,
        signal: first.signal,
        severity: first.signal.severity,
        entityIds: first.symptoms,
        ...(first.alertId ? { alertId: first.alertId } : {}),
        by: { kind: 'signal', id: first.signal.id },
      },
      group.slice(1).map(attached),
    );
    let incident = opened.incident;
    if (opened.created) {
      context.metrics?.signals.inc({ outcome: 'opened' });
      context.logger.info({ incidentId: incident.id, signalId: first.signal.id }, 'incident opened');
      if (group.length > 1) context.metrics?.signals.inc({ outcome: 'joined' }, group.length - 1);
    } else if (incident.state === 'resolved') {
      // The index pointed at a closed incident (a forget that did not finish, these signals were
      // placed just before the incident resolved, so their own entries are not among the
      // incident's, or this is the replay of the step that resolved it, after a crash before the
      // step was recorded): clear them, these signals' too, and retry. Nothing was attached.
      await context.correlator.forget(
        key,
        [...incident.signals.keys(), ...group.map(({ signal }) => fingerprintDigest(signal.fingerprint))],
        [...incident.entityIds, ...group.flatMap(({ symptoms }) => symptoms)],
      );
      const last = incident.transitions.at(-1);
      throw new ClosedIncident(
        `correlation index pointed at closed incident ${key}; retrying`,
        last?.to === 'resolved' && last.by.kind === 'signal' ? resolvedLearnJob(incident) : undefined,
      );
    } else {
      context.metrics?.signals.inc({ outcome: 'joined' }, group.length);
    }
    for (const assessment of assessments) incident = await raise(context, incident, assessment);
    return settle(context, incident, last.signal.id);
  });
  // After the step is recorded, so a crash before this point replays the step's outcome (the
  // learn job) and then clears the index; cleared inside the step, a replay would find its
  // signals placed nowhere and the learn job would be lost.
  if (value.resolved) {
    const resolved = await context.store.get(key);
    if (resolved?.state === 'resolved') await context.correlator.forgetIncident(resolved);
  }
  return value.next ?? undefined;
}

/** The recorded outcome of placing a group: what comes next, and whether it resolved the incident. */
interface Settled {
  next: NextJob | null;
  resolved?: true;
}

/** The learn job of an incident detect has resolved; a second one when it had been escalated. */
function resolvedLearnJob(incident: Incident): NextJob {
  const afterEscalation = incident.transitions.at(-1)?.from === 'escalated';
  return learnJob(incident.key, Math.max(incident.round, 1), afterEscalation);
}

/** Whether the incident's alerts have all cleared: every one it tracks, and it lost track of none. */
function cleared(incident: Incident): boolean {
  return incident.signalsUntracked !== true && allSignalsCleared(incident.signals);
}

/** What follows a signal's arrival: investigation of a new incident, or resolution when all has cleared. */
async function settle(context: LoopContext, incident: Incident, signalId: string): Promise<Settled> {
  const key = incident.key;
  if (!cleared(incident)) {
    // The same job id whichever signal gets here first, so the investigation is queued once.
    return {
      next:
        incident.state === 'open'
          ? {
              stage: 'investigate',
              payload: { v: 1, incidentKey: key, round: 1 },
              jobId: loopJobId(key, 'investigate', 1),
            }
          : null,
    };
  }
  // Decided again under the incident's lock: another job may have attached a firing signal, or
  // moved the incident on, since this one read it.
  const { incident: now, changed } = await context.store.transition(
    key,
    'resolved',
    { kind: 'signal', id: signalId },
    'every contributing signal has cleared',
    { from: CLEARABLE, when: cleared },
  );
  if (changed) return { next: resolvedLearnJob(now), resolved: true };
  if (now.state !== 'resolved' && !CLEARABLE.includes(now.state) && cleared(now))
    await context.store.note(key, {
      by: actor,
      what: 'signals-cleared',
      reason: `every contributing signal has cleared while ${now.state}; verify decides`,
    });
  return { next: null };
}

async function raise(
  context: LoopContext,
  incident: Incident,
  assessment: SeverityAssessment,
): Promise<Incident> {
  if (assessment.reasons.length === 0) return incident;
  const reason = `${assessment.earlyWarning ? 'early warning: ' : ''}${assessment.reasons.join('; ')}`;
  return context.store.raiseSeverity(incident.key, assessment.severity, actor, reason);
}
