import type { AnalysisContext } from './context.js';
import type { Finding } from './finding.js';

/**
 * One Kubernetes analyzer: a pure function of the analysis context. Same context, same findings,
 * in a deterministic order; no I/O, no clock (time comes from `context.now`); tolerant of partial
 * objects (a missing field means "not known", never a crash).
 */
export interface Analyzer {
  /** Stable, kebab-case; recorded as `Finding.analyzer` and part of every fingerprint. */
  readonly name: string;
  analyze(context: AnalysisContext): Finding[];
}
