import { v1, type client } from '@datadog/datadog-api-client';
import { z } from 'zod';
import { serviceId } from '../../../graph/ids.js';
import { SystemError } from '../../../shared/errors.js';
import { uniqueRefs, usableName } from '../../entities.js';
import {
  clip,
  MAX_SUMMARY_LENGTH,
  signalId,
  type EntityRef,
  type Severity,
  type Signal,
} from '../../signal.js';
import { polledRaw } from '../poller.js';

/** Which monitors to follow. */
export interface MonitorOptions {
  /** Monitor tags (`team:payments`) every followed monitor has; comma-joined for the API. */
  monitorTags?: readonly string[];
  /** Scope tags (`env:prod`) of the monitors' queries. */
  tags?: readonly string[];
  /** Monitors per page. Default 100. */
  pageSize?: number;
  /** Pages read at most. Default 20. */
  maxPages?: number;
}

/** The overall state of a monitor as last read, and since when (ms; the poll time it was first read). */
export const monitorStatesSchema = z.record(z.string(), z.object({ state: z.string(), since: z.number() }));
export type MonitorStates = z.infer<typeof monitorStatesSchema>;

/** A monitor as the poller needs it. */
export interface MonitorView {
  id: number;
  name: string;
  state: string;
  priority?: number;
  tags: string[];
  query: string;
}

const FIRING_STATES = new Set(['Alert', 'Warn', 'No Data']);

/** Reads the monitors with `v1.MonitorsApi.listMonitors`, page by page. */
export async function listMonitors(
  configuration: client.Configuration,
  options: MonitorOptions,
): Promise<MonitorView[]> {
  const api = new v1.MonitorsApi(configuration);
  const pageSize = options.pageSize ?? 100;
  const views: MonitorView[] = [];
  for (let page = 0; page < (options.maxPages ?? 20); page++) {
    let monitors: v1.Monitor[];
    try {
      monitors = await api.listMonitors({
        page,
        pageSize,
        ...(options.monitorTags?.length ? { monitorTags: options.monitorTags.join(',') } : {}),
        ...(options.tags?.length ? { tags: options.tags.join(',') } : {}),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new SystemError(
        'datadog_failed',
        `Datadog monitor list failed${typeof code === 'number' ? ` (HTTP ${code})` : ''}`,
        {
          cause: error,
          retryable: typeof code !== 'number' || code === 429 || code >= 500,
        },
      );
    }
    for (const monitor of monitors) {
      if (monitor.id === undefined) continue;
      views.push({
        id: monitor.id,
        name: monitor.name ?? `monitor ${monitor.id}`,
        state: typeof monitor.overallState === 'string' ? monitor.overallState : 'Unknown',
        ...(typeof monitor.priority === 'number' ? { priority: monitor.priority } : {}),
        tags: monitor.tags ?? [],
        query: monitor.query,
      });
    }
    if (monitors.length < pageSize) break;
  }
  return views;
}

function severityOf(monitor: MonitorView): Severity {
  const byPriority: Record<number, Severity> = {
    1: 'critical',
    2: 'error',
    3: 'warning',
    4: 'info',
    5: 'info',
  };
  if (monitor.priority !== undefined && byPriority[monitor.priority])
    return byPriority[monitor.priority] ?? 'error';
  return monitor.state === 'Alert' ? 'error' : 'warning';
}

function refsOf(monitor: MonitorView): EntityRef[] {
  const refs: EntityRef[] = [];
  for (const tag of monitor.tags) {
    const [key, ...rest] = tag.split(':');
    const value = rest.join(':');
    if (key === 'service' && usableName(value))
      refs.push({ kind: 'Service', id: serviceId(value), name: value });
  }
  return uniqueRefs(refs);
}

/**
 * Turns monitor states into alert signals on transitions: entering Alert, Warn or No Data fires
 * (`datadog/monitor/<id>`, occurrence: the poll that first saw the episode), returning to OK
 * resolves. Monitors already firing on the first read fire then; muted-like states (Ignored,
 * Skipped, Unknown) change nothing. Pure.
 */
export function judgeMonitors(
  monitors: readonly MonitorView[],
  previous: MonitorStates,
  now: number,
): { signals: Signal[]; states: MonitorStates } {
  const states: MonitorStates = {};
  const signals: Signal[] = [];
  for (const monitor of monitors) {
    const key = String(monitor.id);
    const before = previous[key];
    const firingBefore = before !== undefined && FIRING_STATES.has(before.state);
    const firingNow = FIRING_STATES.has(monitor.state);
    const resolvedNow = monitor.state === 'OK';
    if (!firingNow && !resolvedNow) {
      if (before) states[key] = before;
      continue;
    }
    const since = firingNow === firingBefore && before ? before.since : now;
    states[key] = { state: monitor.state, since };
    if (firingNow === firingBefore || (resolvedNow && !firingBefore)) continue;
    const fingerprint = `datadog/monitor/${monitor.id}`;
    const status = firingNow ? 'firing' : 'resolved';
    const episode = firingNow ? since : (before?.since ?? since);
    signals.push({
      v: 1,
      id: signalId('datadog', fingerprint, status, episode),
      source: 'datadog',
      kind: 'alert',
      status,
      fingerprint,
      severity: severityOf(monitor),
      entities: refsOf(monitor).slice(0, 64),
      observedAt: now,
      receivedAt: now,
      summary: clip(`${monitor.name} is ${monitor.state}`, MAX_SUMMARY_LENGTH, `monitor ${monitor.id}`),
      attributes: {
        monitorId: monitor.id,
        name: monitor.name,
        state: monitor.state,
        query: clip(monitor.query, 2000, ''),
        tags: monitor.tags.slice(0, 50),
        ...(monitor.priority !== undefined ? { priority: monitor.priority } : {}),
      },
      raw: polledRaw('datadog', { monitor: monitor.id, state: monitor.state, since: episode }),
    });
  }
  return { signals, states };
}
