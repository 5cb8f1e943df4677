import type { GraphStore } from '../graph/store.js';
import type { FactsInput, Mode, PolicySet } from '../policy/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

/** One incident in a list: enough to pick one and ask for its detail. */
export interface IncidentSummary {
  id: string;
  /** A lifecycle state (`open`, `investigating`, … see src/loop/incident-lifecycle.ts). */
  state: string;
  severity: string;
  title: string;
  /** When it was opened, ms since the epoch. */
  openedAt: number;
}

/** One entry of an incident's timeline, oldest first in `IncidentDetail.timeline`. */
export interface IncidentTimelineEntry {
  /** ms since the epoch. */
  at: number;
  /** What happened: a transition (`investigating`), an event kind (`alert-fired`), `note`… */
  kind: string;
  summary: string;
  /** Who or what did it, when known (a stage, a person, a signal). */
  by?: string;
}

/** A piece of evidence gathered while testing a hypothesis. */
export interface Evidence {
  summary: string;
  /** true: supports the hypothesis; false: refutes it; absent: neutral or unknown. */
  supports?: boolean;
  /** The tool or source it came from. */
  source?: string;
  at?: number;
}

/** One root-cause hypothesis; hypotheses form a tree through `parentId`. */
export interface Hypothesis {
  id: string;
  statement: string;
  /** e.g. `open`, `supported`, `refuted`, `pruned`. */
  status: string;
  /** 0–1. */
  confidence: number;
  /** The hypothesis this one refines; absent for a root. */
  parentId?: string;
  /** A category the policy sees as `hypothesis.category`, when known. */
  category?: string;
  evidence: Evidence[];
}

/** Everything the MCP surface shows about one incident. */
export interface IncidentDetail extends IncidentSummary {
  timeline: IncidentTimelineEntry[];
  /** Flat, in any order; `parentId` links them into a tree. */
  hypotheses: Hypothesis[];
  /** The investigation report (Markdown), once written. */
  report?: string;
}

/**
 * Read access to incidents for the MCP server. Implementations must be read-only and safe to
 * call concurrently; `list` returns newest first (by `openedAt`), at most `limit` items; `get`
 * resolves `undefined` for an unknown id. Both reject only when the backing store fails.
 */
export interface IncidentReader {
  list(query: { state?: string; limit: number }): Promise<IncidentSummary[]>;
  get(id: string): Promise<IncidentDetail | undefined>;
}

/** A proposed action as `propose_action` received it, after validation. */
export interface ActionProposal {
  /** Deterministic: the same incident, action, parameters and target give the same id. */
  id: string;
  incidentId?: string;
  action: { kind: string; params: Record<string, unknown> };
  target: { kind: string; name: string; namespace?: string; cluster?: string; environment: string };
}

/**
 * Builds the link a human follows to review and approve a proposal (the console or a Slack
 * deep link). Must not execute or record anything by itself.
 */
export type ApprovalLinker = (proposal: ActionProposal) => string;

/** What `createMcpServer` needs. Everything is read-only from the server's point of view. */
export interface McpServerDependencies {
  graph: GraphStore;
  incidents: IncidentReader;
  /** The current policy set (e.g. `PolicyWatcher.current`); `undefined` when none is loaded. */
  policies: () => PolicySet | undefined;
  /** Directory of the policy files served as resources; omit to serve none. */
  policiesDir?: string;
  /** Link to review a proposal; default `<publicUrl>/console/proposals/<id>`. */
  approvalLink?: ApprovalLinker;
  /** Base URL of nightshift's HTTP server, for the default approval link; default `http://127.0.0.1:8080`. */
  publicUrl?: string;
  /**
   * Facts the server cannot know by itself, for `propose_action`: this agent's recent actions on
   * the target (`recent`; without it a policy with rate limits counts them as reached and
   * answers shadow), the failure pattern's record, the blast radius. Must not write anything.
   */
  enrichFacts?: (proposal: ActionProposal) => Promise<Pick<FactsInput, 'recent' | 'pattern' | 'blastRadius'>>;
  /** The configured kill switch and mode cap, passed on to the policy evaluation. */
  killSwitch?: () => boolean;
  maxMode?: Mode;
  /** Time zone of the estate for the `now` facts; default UTC. */
  timeZone?: string;
  /** Largest text a tool returns, in UTF-8 bytes; default 64 KiB. Longer output is cut and marked. */
  maxOutputBytes?: number;
  clock: Clock;
  logger: Logger;
}
