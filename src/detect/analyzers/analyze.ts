import type { Analyzer } from './analyzer.js';
import { createAnalysisContext, type AnalyzerOptions } from './context.js';
import { crashLoopAnalyzer } from './crash-loop.js';
import { evictionAnalyzer } from './eviction.js';
import type { Finding } from './finding.js';
import { hpaAtMaxAnalyzer } from './hpa-at-max.js';
import { imagePullAnalyzer } from './image-pull.js';
import { initContainerAnalyzer } from './init-container.js';
import { jobFailureAnalyzer } from './job-failure.js';
import { missingConfigAnalyzer } from './missing-config.js';
import { nodeConditionAnalyzer } from './node-condition.js';
import { oomKilledAnalyzer } from './oom-killed.js';
import { pendingAnalyzer } from './pending.js';
import { probeAnalyzer } from './probe.js';
import { replicaMismatchAnalyzer } from './replica-mismatch.js';
import { serviceEndpointsAnalyzer } from './service-endpoints.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Every built-in analyzer, in the order `analyze` runs them. */
export const defaultAnalyzers: readonly Analyzer[] = Object.freeze([
  crashLoopAnalyzer,
  oomKilledAnalyzer,
  imagePullAnalyzer,
  initContainerAnalyzer,
  pendingAnalyzer,
  probeAnalyzer,
  missingConfigAnalyzer,
  evictionAnalyzer,
  nodeConditionAnalyzer,
  jobFailureAnalyzer,
  replicaMismatchAnalyzer,
  hpaAtMaxAnalyzer,
  serviceEndpointsAnalyzer,
]);

/** Options for one analysis: time windows (defaults in `defaultAnalyzerOptions`) and which analyzers run. */
export interface AnalyzeOptions extends Partial<AnalyzerOptions> {
  /** Defaults to `defaultAnalyzers`. */
  analyzers?: readonly Analyzer[];
}

/**
 * Runs the analyzers over one snapshot at time `now` (ms since the epoch) and returns their
 * findings, analyzer by analyzer in order, each analyzer's in input order. Pure and
 * deterministic: the same snapshot, time and options give the same findings with the same
 * fingerprints. Never mutates the snapshot.
 */
export function analyze(snapshot: ClusterSnapshot, now: number, options: AnalyzeOptions = {}): Finding[] {
  const { analyzers = defaultAnalyzers, ...windows } = options;
  const context = createAnalysisContext(snapshot, now, windows);
  return analyzers.flatMap((analyzer) => analyzer.analyze(context));
}
