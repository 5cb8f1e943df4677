/**
 * What the vendor servers read from the simulated world. The servers depend on this interface
 * only, so the sim core (or a test's fake) can stand behind them. Every time is sim time in
 * milliseconds since the Unix epoch.
 */

import { SIM_METRIC_NAMES, type SimMetricName } from '../world/types.js';

/** The per-service series the world keeps, in the world's own units (see `SimMetricName`). */
export type MetricName = SimMetricName;

/** Every metric name, in a stable order. */
export const METRIC_NAMES: readonly MetricName[] = SIM_METRIC_NAMES;

/** One sample: sim time `t` (ms) and its value. */
export interface SeriesPoint {
  t: number;
  value: number;
}

/** A service of the estate, as far as the vendors need it. */
export interface VendorService {
  name: string;
  namespace: string;
  /** service | datastore | queue | external | job */
  kind?: string;
  tier?: string;
  environment?: string;
  image?: string;
  /** owner/name of its repository, e.g. `shop/checkout`. */
  repo?: string;
  slo?: { latencyP99Ms?: number; errorRate?: number };
}

/** One log line of a pod. */
export interface VendorLogLine {
  t: number;
  service: string;
  pod: string;
  /** error | warn | info | debug */
  level: string;
  message: string;
}

/** Something that happened in the estate (a deploy, a Kubernetes event, an alert). */
export interface VendorEvent {
  t: number;
  title: string;
  text: string;
  service?: string;
  /** e.g. deploy | kubernetes | alert | flag */
  source?: string;
  /** info | warning | error | success */
  severity?: string;
  tags?: readonly string[];
}

/** A message someone typed in Slack, from the scenario's timeline. */
export interface VendorSlackMessage {
  channel: string;
  user: string;
  text: string;
  threadTs?: string;
}

/** A deploy of a new image (and commit) of a service. */
export interface VendorDeploy {
  service: string;
  image: string;
  previousImage?: string;
  /** owner/name, e.g. `shop/checkout`. */
  repo?: string;
  sha?: string;
  previousSha?: string;
  message?: string;
  author?: string;
  authorEmail?: string;
  /** Files the commit touched, relative to the repository root. */
  files?: readonly string[];
  /** Sim time of the deploy; the world's `now()` when absent. */
  t?: number;
}

/**
 * An alert the scenario asks a source to send: a timeline `alert:` entry (its body as written,
 * `{}` when omitted) or a complete webhook body (e.g. a flapping alert, then `status` is set).
 */
export interface VendorAlert {
  /** alertmanager | datadog | pagerduty */
  source: string;
  body: unknown;
  status?: 'firing' | 'resolved';
  labels?: Readonly<Record<string, string>>;
}

/** The timeline notifications the vendors react to, by event name. */
export interface VendorTimelineEvents {
  slack: VendorSlackMessage;
  deploy: VendorDeploy;
  alert: VendorAlert;
}

/**
 * The read side of the simulated world. Calls are synchronous and cheap; none throws for an
 * unknown service or metric (they answer empty).
 */
export interface VendorWorld {
  /** Sim time now, ms since the epoch. */
  now(): number;
  services(): readonly VendorService[];
  /**
   * Samples of one series at `fromMs`, `fromMs + stepMs`, … up to `toMs` and never after
   * `now()`; empty for an unknown service or a metric the service does not have.
   */
  series(
    service: string,
    metric: MetricName,
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): readonly SeriesPoint[];
  /** Log lines of a service in [fromMs, toMs], oldest first; `pod` narrows to one pod. */
  logs(service: string, range: { fromMs: number; toMs: number; pod?: string }): readonly VendorLogLine[];
  /** Estate events in [fromMs, toMs], oldest first. */
  events(fromMs: number, toMs: number): readonly VendorEvent[];
  /** Subscribes to timeline notifications; returns the unsubscribe function. */
  on<K extends keyof VendorTimelineEvents>(
    event: K,
    listener: (payload: VendorTimelineEvents[K]) => void,
  ): () => void;
  /** How the sim's on-call answers approval requests; the vendors' options win when given. */
  approvals?(): 'approve' | 'reject' | 'ignore';
  /** Where servers report every request they receive, when the world keeps such a log. */
  readonly requestLog?: VendorRequestLog;
}

/** One request a vendor server received, as reported to the world's request log. */
export interface VendorRequest {
  /** datadog | prometheus | slack | pagerduty | anthropic */
  server: string;
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  contentType?: string;
  /** A POST, PUT, PATCH or DELETE. */
  write: boolean;
  dryRun: boolean;
  status: number;
}

/** The world's request log, as far as the vendors write to it. */
export interface VendorRequestLog {
  record(request: VendorRequest): void;
}
