import { timeOf, truncate } from './api-object.js';
import type { ContainerStatus } from './pod-containers.js';

/** How a container last ended, as evidence: reason, exit code, signal, message and time. */
export interface TerminationEvidence {
  reason?: string;
  exitCode?: number;
  signal?: number;
  message?: string;
  finishedAt?: number;
}

/** The current termination if the container is terminated now, otherwise the previous one. */
export function lastTermination(status: ContainerStatus | undefined): TerminationEvidence | undefined {
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  if (!terminated) return undefined;
  const evidence: TerminationEvidence = {};
  if (terminated.reason !== undefined) evidence.reason = terminated.reason;
  if (terminated.exitCode !== undefined) evidence.exitCode = terminated.exitCode;
  if (terminated.signal !== undefined) evidence.signal = terminated.signal;
  const message = truncate(terminated.message);
  if (message !== undefined) evidence.message = message;
  const finishedAt = timeOf(terminated.finishedAt);
  if (finishedAt !== undefined) evidence.finishedAt = finishedAt;
  return evidence;
}

/** "exit code 1, Error" / "exit code 137, OOMKilled", for messages. */
export function describeTermination(termination: TerminationEvidence | undefined): string {
  if (!termination) return 'no recorded termination';
  const parts: string[] = [];
  if (termination.exitCode !== undefined) parts.push(`exit code ${termination.exitCode}`);
  if (termination.reason !== undefined) parts.push(termination.reason);
  return parts.length > 0 ? parts.join(', ') : 'unknown termination';
}
