import { allSignalsCleared, type IncidentState } from '../incident-lifecycle.js';
import { fingerprintDigest } from '../incident-store.js';
import { detectPayload, loopJobId } from '../payloads.js';
import type { Signal } from '../../ingest/signal.js';
import type { Incident } from '../pipeline-types.js';
import { assessSeverity, trendFromAttributes, type SeverityAssessment } from '../severity.js';
import type { LoopStage, NextJob } from '../stage.js';
import { learnJob, stageActor, type LoopContext } from './context.js';

const actor = stageActor('detect');

/** States from which clearing signals resolve an incident; in acting/verifying, verify decides. */
const CLEARABLE: readonly IncidentState[] = ['open', 'investigating', 'awaiting-approval', 'escalated'];

/**
 * detect: drops noise (flapping, silences, maintenance, learned patterns), then places the
 * signal under the shared correlation lock: the open incident with its fingerprint, one nearby
 * in the graph within the window, or a new one. Only the placement and its index entry run under
 * that lock; the incident itself is written under its own lock, opened by whichever of its
 * signals gets there first. Severity comes from the signal, SLO impact, blast radius and trend;
 * a raise is noted in the timeline. A resolution that clears every contributing signal resolves
 * the incident. The outcome is recorded per signal, so a redelivered job goes on where it was.
 */
export const detectStage: LoopStage<typeof detectPayload, LoopContext> = {
  name: 'detect',
  payload: detectPayload,
  async handle({ signal, entityIds, held }, context) {
    if (held) {
      // The second look at a held warning: if it cleared meanwhile it was a transient.
      if ((await context.noise.lastStatus(signal.fingerprint)) === 'resolved') {
        context.metrics?.signals.inc({ outcome: 'ignored' });
        context.logger.debug({ signalId: signal.id }, 'held warning resolved before it opened anything');
        return undefined;
      }
      return placeAgain(signal, entityIds, context, true);
    }
    const verdict = await context.noise.judge(signal, signal.observedAt);
    if (verdict.suppressed) {
      context.metrics?.suppressed.inc({ reason: verdict.reason });
      context.metrics?.signals.inc({ outcome: 'suppressed' });
      context.logger.debug(
        { signalId: signal.id, reason: verdict.reason, detail: verdict.detail },
        'signal suppressed',
      );
      return undefined;
    }
    return placeAgain(signal, entityIds, context, false);
  },
};

/**
 * Places the signal; a placement into an incident that resolved meanwhile is cleared and placed
 * again at once, rather than after a retry's backoff; only a repeat of that fails the attempt.
 */
async function placeAgain(
  signal: Signal,
  entityIds: readonly string[],
  context: LoopContext,
  held: boolean,
): Promise<NextJob | undefined> {
  for (let tries = 1; ; tries++) {
    try {
      return await place(signal, entityIds, context, held);
    } catch (error) {
      if (!(error instanceof ClosedIncident) || tries >= 3) throw error;
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

/** The index pointed at a resolved incident; its entries (and the signal's) have been cleared. */
class ClosedIncident extends Error {}

/** Places the signal (under the correlation lock), then opens or joins its incident once. */
async function place(
  signal: Signal,
  entityIds: readonly string[],
  context: LoopContext,
  held: boolean,
): Promise<NextJob | undefined> {
  const alertId = entityIds.find((entityId) => entityId.startsWith('alert:'));
  const symptoms = entityIds.filter((entityId) => entityId !== alertId);
  const placement = await context.mutex.run('correlate', async () => {
    const found = await context.correlator.place(signal, symptoms, signal.observedAt);
    if (found.kind === 'open' && holdable(signal, context, held)) return { kind: 'hold' as const };
    if (found.kind !== 'none')
      await context.correlator.register(found.incidentKey, signal, symptoms, signal.observedAt);
    return found;
  });
  if (placement.kind === 'hold') {
    context.metrics?.signals.inc({ outcome: 'held' });
    return {
      stage: 'detect',
      payload: { v: 1, signal, entityIds: [...entityIds], held: true },
      jobId: `${signal.id}:detect:held`,
      delayMs: context.transientHoldMs,
    };
  }
  if (placement.kind === 'none') {
    context.metrics?.signals.inc({ outcome: 'ignored' });
    return undefined;
  }
  const key = placement.incidentKey;
  const trend = (await context.deps.trend?.(signal)) ?? trendFromAttributes(signal);
  const assessment = await assessSeverity(context.graph, signal, symptoms, trend, context.severity);
  await context.ledger.put(key, `signal-${signal.id}`, signal);
  const { value } = await context.ledger.once<{ next: NextJob | null }>(
    key,
    `detect-${signal.id}`,
    async () => {
      const opened = await context.store.open({
        key,
        signal,
        severity: signal.severity,
        entityIds: symptoms,
        ...(alertId ? { alertId } : {}),
        by: { kind: 'signal', id: signal.id },
      });
      let incident = opened.incident;
      if (opened.created) {
        context.metrics?.signals.inc({ outcome: 'opened' });
        context.logger.info({ incidentId: incident.id, signalId: signal.id }, 'incident opened');
      } else {
        if (incident.state === 'resolved') {
          // The index pointed at a closed incident (a forget that did not finish, or this signal
          // was placed just before the incident resolved, so its own entries are not among the
          // incident's): clear them, this signal's too, and retry.
          await context.correlator.forget(
            key,
            [...incident.signals.keys(), fingerprintDigest(signal.fingerprint)],
            [...incident.entityIds, ...symptoms],
          );
          throw new ClosedIncident(`correlation index pointed at closed incident ${key}; retrying`);
        }
        incident = await context.store.attachSignal(key, signal, symptoms, alertId, {
          kind: 'signal',
          id: signal.id,
        });
        context.metrics?.signals.inc({ outcome: 'joined' });
      }
      incident = await raise(context, incident, assessment);
      return { next: (await settle(context, incident, signal.id)) ?? null };
    },
  );
  return value.next ?? undefined;
}

/** What follows a signal's arrival: investigation of a new incident, or resolution when all has cleared. */
async function settle(
  context: LoopContext,
  incident: Incident,
  signalId: string,
): Promise<NextJob | undefined> {
  const key = incident.key;
  if (!allSignalsCleared(incident.signals)) {
    // The same job id whichever signal gets here first, so the investigation is queued once.
    return incident.state === 'open'
      ? {
          stage: 'investigate',
          payload: { v: 1, incidentKey: key, round: 1 },
          jobId: loopJobId(key, 'investigate', 1),
        }
      : undefined;
  }
  if (!CLEARABLE.includes(incident.state)) {
    await context.store.note(key, {
      by: actor,
      what: 'signals-cleared',
      reason: `every contributing signal has cleared while ${incident.state}; verify decides`,
    });
    return undefined;
  }
  const { incident: resolved } = await context.store.transition(
    key,
    'resolved',
    { kind: 'signal', id: signalId },
    'every contributing signal has cleared',
    { from: CLEARABLE },
  );
  await context.correlator.forget(key, [...resolved.signals.keys()], resolved.entityIds);
  return learnJob(key, Math.max(resolved.round, 1));
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
