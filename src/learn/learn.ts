import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphStore } from '../graph/store.js';
import { SIGNATURE_PROPERTY } from '../graph/schema.js';
import type { PatternStore } from './pattern-store.js';
import { postmortemDraft } from './postmortem.js';
import { patternSignature } from './signature.js';
import type { IncidentOutcome, PatternRecord } from './types.js';

/** What `learnFromIncident` needs. */
export interface LearnDependencies {
  graph: GraphStore;
  patterns: PatternStore;
  /** Where postmortem drafts are written (`<dir>/<incident>.md`); omitted: not written. */
  postmortemDir?: string;
}

/** What was learned. */
export interface Lesson {
  patternKey: string;
  record: PatternRecord;
  /** False when this incident had been learned from already (a retried job). */
  counted: boolean;
  postmortem: string;
  postmortemPath?: string;
}

function fileName(incidentId: string): string {
  return `${incidentId.replace(/[^\w.-]+/g, '_')}.md`;
}

/**
 * Learns from an ended incident: stores its signature, cause, fix, outcome and time to
 * mitigate on the Incident entity (so `similarIncidents` finds it next time), adds it to its
 * pattern record (which feeds investigation priors and the policy's `pattern` facts) and writes
 * a postmortem draft. Shadow outcomes count apart from executed ones. Safe to retry.
 */
export async function learnFromIncident(outcome: IncidentOutcome, deps: LearnDependencies): Promise<Lesson> {
  const signature = patternSignature(outcome);
  const fix = outcome.remediation;
  const executed = fix?.disposition === 'executed';
  const timeToMitigateMs =
    fix?.mitigatedAt !== undefined ? Math.max(0, fix.mitigatedAt - outcome.openedAt) : undefined;
  const postmortem = postmortemDraft(outcome);

  await deps.graph.upsertEntities([
    {
      id: outcome.incidentId,
      kind: 'Incident',
      name: outcome.title,
      source: 'nightshift:learn',
      observedAt: outcome.endedAt,
      properties: {
        [SIGNATURE_PROPERTY]: signature.tokens,
        patternKey: signature.key,
        outcome: outcome.state,
        cause: outcome.rootCause?.category ?? null,
        causeStatement: outcome.rootCause?.statement ?? null,
        fix: fix ? `${fix.action}:${fix.target}` : null,
        fixDisposition: fix?.disposition ?? null,
        mitigated: fix?.mitigated ?? null,
        timeToMitigateMs: timeToMitigateMs ?? null,
      },
    },
  ]);

  const counted = await deps.patterns.record({
    key: signature.key,
    incidentId: outcome.incidentId,
    at: outcome.endedAt,
    ...(executed && fix.mitigated !== undefined ? { executed: fix.mitigated ? 'success' : 'failure' } : {}),
    ...(fix?.disposition === 'suggested' && fix.mitigated !== undefined
      ? { shadow: fix.mitigated ? 'would-mitigate' : 'would-not' }
      : {}),
    ...(executed && fix.mitigated && timeToMitigateMs !== undefined ? { timeToMitigateMs } : {}),
    ...(executed && fix.mitigated ? { fix: fix.action } : {}),
  });

  let postmortemPath: string | undefined;
  if (deps.postmortemDir) {
    await mkdir(deps.postmortemDir, { recursive: true });
    postmortemPath = join(deps.postmortemDir, fileName(outcome.incidentId));
    await writeFile(postmortemPath, postmortem);
  }
  return {
    patternKey: signature.key,
    record: await deps.patterns.get(signature.key),
    counted,
    postmortem,
    ...(postmortemPath ? { postmortemPath } : {}),
  };
}
