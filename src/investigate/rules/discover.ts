import type { CheckOutcome } from '../planner.js';
import type { HypothesisDraft } from '../tree.js';
import type { Hypothesis } from '../types.js';
import {
  CODE_ERROR,
  knownServices,
  logOwner,
  logText,
  namedServices,
  SPECIFIC_CAUSES,
  type CheckEnv,
} from './checks.js';

/** A hypothesis the logs pointed at, with the service whose log pointed there when that is its caller. */
export interface DiscoveredDraft extends HypothesisDraft {
  caller?: string;
}

/** Prior of a hypothesis a specific log pattern pointed at. */
const DISCOVERED_PRIOR = 0.3;
/** Prior of a service found by following failed calls down a cascade. */
const FOLLOWED_PRIOR = 0.15;

/**
 * Reads one logs outcome for the specific causes an SRE would chase (an expired certificate, DNS
 * failures, a cache out of memory) and returns hypotheses about them. The suspect is always a
 * service the graph already knows, matched by name, never text taken from the log: a line can
 * only point at an entity of the estate, and only with a category from a fixed table.
 */
export function discoverFromLogs(env: CheckEnv, outcome: CheckOutcome): DiscoveredDraft[] {
  if (outcome.tool !== 'k8s_pod_logs' && outcome.tool !== 'datadog_logs') return [];
  const owner = outcome.check ? logOwner(env, outcome.check) : undefined;
  const logs = logText(outcome);
  if (!owner || !logs || logs.errors === 0 || !logs.text) return [];
  const known = knownServices(env.context);
  const drafts: DiscoveredDraft[] = [];
  // What the suspect's own logs show explains why the suspect fails: a child of its hypothesis.
  const under = outcome.check === 'error_logs' ? { parentId: env.hypothesis.id } : {};
  const lines = logs.text.split('\n');
  let specific = false;
  for (const cause of SPECIFIC_CAUSES) {
    const matching = lines.filter((line) => cause.pattern.test(line));
    if (matching.length === 0) continue;
    specific = true;
    const blamed = new Set<string>();
    for (const line of matching) {
      const named = cause.blames === 'named' ? namedServices(env.context, line, owner) : [];
      for (const name of named.length ? named : [owner]) blamed.add(name);
    }
    for (const name of blamed) {
      const suspect = known.get(name);
      if (!suspect) continue;
      drafts.push({
        category: cause.category,
        suspect,
        statement: cause.statement(name),
        prior: DISCOVERED_PRIOR,
        ...under,
        ...(name !== owner ? { caller: owner } : {}),
      });
    }
  }
  // Without a specific cause, follow the errors: when the dominant error of a service is a failed
  // call to another service of the estate, that service is the next suspect, as an SRE walks a
  // cascade down to where it starts.
  const top = dominantMessage(outcome);
  if (!specific && top)
    for (const name of namedServices(env.context, top, owner)) {
      const suspect = known.get(name);
      if (!suspect) continue;
      drafts.push({
        category: 'dependency_failure',
        suspect,
        statement: `${name}, which ${owner} calls, is failing and its callers fail with it`,
        prior: FOLLOWED_PRIOR,
        ...under,
        caller: owner,
      });
    }
  // A service whose own code throws, suspected of failing as a whole: did it change?
  const suspect = known.get(owner);
  if (
    !specific &&
    top &&
    outcome.check === 'error_logs' &&
    env.hypothesis.category === 'dependency_failure' &&
    CODE_ERROR.test(top) &&
    suspect
  )
    drafts.push({
      category: 'deploy_regression',
      suspect,
      statement: `A recent release of ${owner} broke its code`,
      prior: FOLLOWED_PRIOR,
      ...under,
      ...(env.caller ? { caller: env.caller } : {}),
    });
  return drafts;
}

function dominantMessage(outcome: CheckOutcome): string | undefined {
  if (outcome.result.status !== 'ok') return undefined;
  const data = outcome.result.data as {
    topMessages?: Array<{ message: string }>;
    topErrors?: Array<{ message: string }>;
  };
  return (data.topMessages ?? data.topErrors)?.[0]?.message;
}

/**
 * Drafts whose (category, suspect) is not yet anywhere in the tree, each once; `sameThing` maps
 * an id to the one it stands for (a service to its workload), so both spellings count as one.
 */
export function newDrafts(
  drafts: readonly HypothesisDraft[],
  tree: readonly Hypothesis[],
  sameThing: (id: string) => string = (id) => id,
): HypothesisDraft[] {
  const seen = new Set(tree.map((node) => `${node.category}\u0000${sameThing(node.suspect)}`));
  const fresh: HypothesisDraft[] = [];
  for (const draft of drafts) {
    const key = `${draft.category}\u0000${sameThing(draft.suspect)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push({
      category: draft.category,
      suspect: draft.suspect,
      statement: draft.statement,
      prior: draft.prior,
      ...(draft.parentId ? { parentId: draft.parentId } : {}),
    });
  }
  return fresh;
}
