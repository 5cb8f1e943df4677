import { z } from 'zod';
import { serviceId } from '../../../graph/ids.js';
import { TemplateMiner } from '../../logs/template-miner.js';
import {
  clip,
  MAX_SUMMARY_LENGTH,
  signalId,
  type EntityRef,
  type Severity,
  type Signal,
} from '../../signal.js';
import { serviceDeploys, type DeployRecord } from '../deploys.js';
import { resolvePerPoll, type PerPoll } from '../objectives.js';
import { finishSignals, polledRaw, type PollContext, type Poller, type PollResult } from '../poller.js';
import type { LogLine, LogSource } from './log-source.js';

/** Options of the log pattern poller. */
export interface LogPatternPollerOptions {
  /** The services whose logs are mined, or a lookup read at each poll. */
  services: PerPoll<readonly string[]>;
  source: LogSource;
  /** How far back the first poll of a service reads. Default 15 min. */
  initialLookbackMs?: number;
  /** A template first seen this long after a deploy is blamed on it. Default 30 min. */
  deployWindowMs?: number;
  /** A deploy must come this long after the first line seen, so older templates are known. Default 30 s. */
  minBaselineMs?: number;
  /** Logs arrive late: read only up to this long ago. Default 0. */
  delayMs?: number;
  /** Templates kept per service (least recently seen dropped). Default 500. */
  maxTemplates?: number;
}

const templateSchema = z.object({
  id: z.string(),
  template: z.string(),
  count: z.number(),
  firstSeen: z.number(),
  lastSeen: z.number(),
  example: z.string(),
  level: z.string().optional(),
  /** The deploy this template was blamed on, once flagged. */
  deployId: z.string().optional(),
});
const serviceStateSchema = z.object({
  /** Time of the first line seen. */
  watchingSince: z.number(),
  /** Lines before this time were read. */
  readTo: z.number(),
  templates: z.array(templateSchema),
});
const stateSchema = z.object({ v: z.literal(1), services: z.record(z.string(), serviceStateSchema) });

export type LogPatternPollState = z.infer<typeof stateSchema>;
type StoredTemplate = z.infer<typeof templateSchema>;
type ServiceState = z.infer<typeof serviceStateSchema>;

function severityOf(level: string | undefined): Severity {
  if (level === 'error' || level === 'critical' || level === 'emergency' || level === 'alert') return 'error';
  return level === 'warn' || level === 'warning' ? 'warning' : 'info';
}

/**
 * Mines the lines into the stored templates. The miner lives for one poll: it is seeded with the
 * stored templates (their text is a line of their own shape), so ids, counts and first/last seen
 * carry over restarts in the JSON state.
 */
export function mineLines(stored: readonly StoredTemplate[], lines: readonly LogLine[]): StoredTemplate[] {
  const miner = new TemplateMiner();
  // Keyed by the miner's id for this poll; each entry keeps the id it was first stored with.
  const byMinerId = new Map<string, StoredTemplate>();
  for (const template of [...stored].sort((a, b) => a.firstSeen - b.firstSeen)) {
    const { template: seeded } = miner.add(template.template, template.firstSeen);
    const known = byMinerId.get(seeded.id);
    if (known) {
      // Two stored templates now read as one: keep the older, add up the counts.
      known.count += template.count;
      known.lastSeen = Math.max(known.lastSeen, template.lastSeen);
      known.template = seeded.template;
      known.deployId ??= template.deployId;
    } else byMinerId.set(seeded.id, { ...template, template: seeded.template });
  }
  for (const line of lines) {
    const { template } = miner.add(line.message, line.at);
    const known = byMinerId.get(template.id);
    if (known) {
      known.count += 1;
      known.lastSeen = Math.max(known.lastSeen, line.at);
      known.firstSeen = Math.min(known.firstSeen, line.at);
      known.template = template.template;
    } else {
      byMinerId.set(template.id, {
        id: template.id,
        template: template.template,
        count: 1,
        firstSeen: line.at,
        lastSeen: line.at,
        example: template.example,
        ...(line.level ? { level: line.level } : {}),
      });
    }
  }
  return [...byMinerId.values()];
}

function patternSignal(
  service: string,
  template: StoredTemplate,
  deploy: DeployRecord,
  receivedAt: number,
): Signal {
  const fingerprint = `logs/${service}/${template.id}`;
  const entities: EntityRef[] = [{ kind: 'Service', id: serviceId(service), name: service }];
  if (deploy.isEntity)
    entities.push({ kind: 'Deploy', id: deploy.id, name: clip(deploy.image ?? deploy.id, 512, deploy.id) });
  return {
    v: 1,
    id: signalId('logs', fingerprint, 'log_pattern', deploy.id),
    source: 'logs',
    kind: 'log_pattern',
    fingerprint,
    severity: severityOf(template.level),
    entities,
    observedAt: template.firstSeen,
    receivedAt,
    summary: clip(
      `New log pattern in ${service} after deploy ${deploy.image ?? deploy.id}: ${template.example}`,
      MAX_SUMMARY_LENGTH,
      `New log pattern in ${service}`,
    ),
    attributes: {
      service,
      templateId: template.id,
      template: clip(template.template, 2000, ''),
      example: template.example,
      count: template.count,
      firstSeen: template.firstSeen,
      lastSeen: template.lastSeen,
      deployId: deploy.id,
      deployAt: deploy.at,
      ...(deploy.image ? { image: deploy.image } : {}),
      ...(template.level ? { level: template.level } : {}),
    },
    raw: polledRaw('logs', { service, template: template.id, deploy: deploy.id }),
  };
}

async function pollService(
  service: string,
  previous: ServiceState | undefined,
  options: LogPatternPollerOptions,
  context: PollContext,
): Promise<{ state: ServiceState | undefined; signals: Signal[] }> {
  const now = context.clock.now();
  const toMs = now - (options.delayMs ?? 0);
  const fromMs = previous?.readTo ?? toMs - (options.initialLookbackMs ?? 15 * 60_000);
  if (toMs <= fromMs) return { state: previous, signals: [] };
  const read = await options.source.lines(service, fromMs, toMs, context.signal);
  if (read.truncated) context.logger.warn({ service }, 'log source stopped early; some lines were not mined');
  const firstLine = read.lines[0]?.at;
  if (!previous && firstLine === undefined) return { state: undefined, signals: [] };
  const watchingSince = previous?.watchingSince ?? firstLine ?? fromMs;
  const templates = mineLines(previous?.templates ?? [], read.lines);

  const windowMs = options.deployWindowMs ?? 30 * 60_000;
  const candidates = templates.filter(
    (template) => !template.deployId && template.firstSeen >= now - windowMs * 2,
  );
  const signals: Signal[] = [];
  if (candidates.length > 0) {
    const earliest = Math.min(...candidates.map((template) => template.firstSeen));
    const deploys = (await serviceDeploys(context.graph, service, earliest - windowMs)).filter(
      (deploy) => deploy.at >= watchingSince + (options.minBaselineMs ?? 30_000),
    );
    for (const template of candidates) {
      const blamed = deploys
        .filter((deploy) => deploy.at < template.firstSeen && template.firstSeen - deploy.at <= windowMs)
        .at(-1);
      if (!blamed) continue;
      template.deployId = blamed.id;
      signals.push(patternSignal(service, template, blamed, now));
    }
  }
  const kept = templates
    .sort((a, b) => b.lastSeen - a.lastSeen)
    .slice(0, options.maxTemplates ?? 500)
    .sort((a, b) => a.firstSeen - b.firstSeen);
  return { state: { watchingSince, readTo: toMs, templates: kept }, signals };
}

/**
 * Mines each service's log lines into templates (the Drain-style `TemplateMiner`), keeping counts
 * and first/last seen per template in the state. A template that first appears within
 * `deployWindowMs` after a deploy of the service (from the graph: see `serviceDeploys`) is blamed
 * on the latest such deploy, once, as a `log_pattern` signal naming the deploy. Templates seen
 * before a deploy, and deploys too soon after the first line seen, are never blamed.
 */
export function logPatternPoller(options: LogPatternPollerOptions): Poller<LogPatternPollState> {
  const initialState = (): LogPatternPollState => ({ v: 1, services: {} });
  return {
    name: 'logs',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<LogPatternPollState>> {
      const next: LogPatternPollState = { v: 1, services: { ...state.services } };
      const signals: Signal[] = [];
      for (const service of await resolvePerPoll(options.services, context)) {
        const result = await pollService(service, state.services[service], options, context);
        if (result.state) next.services[service] = result.state;
        signals.push(...result.signals);
      }
      return { signals: finishSignals(signals), nextState: next };
    },
  };
}
