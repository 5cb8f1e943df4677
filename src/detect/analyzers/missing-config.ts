import type { Analyzer } from './analyzer.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { podContainers } from './pod-containers.js';
import type { Pod } from './snapshot.js';

type ReferenceKind = 'ConfigMap' | 'Secret';

/** One missing reference: the object, optionally a missing key in it, and where it was seen. */
export interface MissingReference {
  name: string;
  key?: string;
  via: 'container-status' | 'event' | 'spec';
  container?: string;
  volume?: string;
}

/**
 * Pods that cannot start because a ConfigMap or Secret (or a key in one) they reference does not
 * exist. Seen in three places: a container waiting with `CreateContainerConfigError`
 * (`configmap "x" not found`, `couldn't find key k in Secret ns/x`), `FailedMount` events
 * (`MountVolume.SetUp failed for volume "v" : secret "x" not found`), and, when the snapshot
 * holds ConfigMaps, non-optional references of a pod that is not running to ConfigMaps absent
 * from it. Kinds `MissingConfigMap` and `MissingSecret`, one finding per pod and kind; evidence
 * lists the missing names, keys and where each was seen. Secrets are never read, only named.
 */
export const missingConfigAnalyzer: Analyzer = {
  name: 'missing-config',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    const configMapNames = context.snapshot.configMaps
      ? new Set(
          context.snapshot.configMaps.map(
            (configMap) => `${configMap.metadata?.namespace ?? ''}/${configMap.metadata?.name ?? ''}`,
          ),
        )
      : undefined;
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object) continue;
      const missing: Record<ReferenceKind, MissingReference[]> = { ConfigMap: [], Secret: [] };
      const add = (kind: ReferenceKind, reference: MissingReference): void => {
        const list = missing[kind];
        if (!list.some((known) => known.name === reference.name && known.key === reference.key))
          list.push(reference);
      };

      for (const container of podContainers(pod)) {
        const waiting = container.status?.state?.waiting;
        if (waiting?.reason !== 'CreateContainerConfigError') continue;
        for (const [kind, reference] of parseMissingReferences(waiting.message ?? '')) {
          add(kind, { ...reference, via: 'container-status', container: container.name });
        }
      }
      for (const event of context.eventsFor('Pod', object.namespace, object.name, pod.metadata?.uid)) {
        if (event.reason !== 'FailedMount' && event.reason !== 'Failed') continue;
        const volume = /for volume "([^"]+)"/.exec(event.message ?? '')?.[1];
        for (const [kind, reference] of parseMissingReferences(event.message ?? '')) {
          add(kind, { ...reference, via: 'event', ...(volume ? { volume } : {}) });
        }
      }
      if (configMapNames && !isRunning(pod)) {
        for (const reference of configMapReferences(pod)) {
          if (!configMapNames.has(`${object.namespace ?? ''}/${reference.name}`)) add('ConfigMap', reference);
        }
      }

      for (const kind of ['ConfigMap', 'Secret'] as const) {
        const references = missing[kind];
        if (references.length === 0) continue;
        findings.push(
          createFinding({
            analyzer: 'missing-config',
            kind: `Missing${kind}`,
            severity: 'warning',
            object,
            owner: podOwner(pod, context),
            reason: references.some((reference) => reference.key === undefined)
              ? `${kind}NotFound`
              : `${kind}KeyNotFound`,
            message: `Pod ${displayName(object)} references missing ${kind} ${references
              .map((reference) =>
                reference.key ? `key ${reference.key} of ${reference.name}` : reference.name,
              )
              .join(', ')}`,
            evidence: { names: [...new Set(references.map((reference) => reference.name))], references },
          }),
        );
      }
    }
    return findings;
  },
};

/** Missing ConfigMaps, Secrets and keys named in a kubelet message. */
export function parseMissingReferences(
  message: string,
): Array<[ReferenceKind, { name: string; key?: string }]> {
  const found: Array<[ReferenceKind, { name: string; key?: string }]> = [];
  for (const match of message.matchAll(/\b(configmaps?|secrets?) "([^"]+)" not found/gi)) {
    if (match[1] && match[2]) found.push([referenceKind(match[1]), { name: match[2] }]);
  }
  for (const match of message.matchAll(
    /couldn't find key (\S+) in (ConfigMap|Secret) (?:[^/\s]+\/)?([^\s/]+)/gi,
  )) {
    if (match[1] && match[2] && match[3]) {
      found.push([referenceKind(match[2]), { name: match[3], key: match[1] }]);
    }
  }
  return found;
}

function referenceKind(word: string): ReferenceKind {
  return word.toLowerCase().startsWith('configmap') ? 'ConfigMap' : 'Secret';
}

function isRunning(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Running' || phase === 'Succeeded' || phase === 'Failed';
}

function configMapReferences(pod: Pod): MissingReference[] {
  const references: MissingReference[] = [];
  for (const container of podContainers(pod)) {
    for (const source of container.spec?.envFrom ?? []) {
      const name = source.configMapRef?.name;
      if (name && source.configMapRef?.optional !== true) {
        references.push({ name, via: 'spec', container: container.name });
      }
    }
    for (const variable of container.spec?.env ?? []) {
      const selector = variable.valueFrom?.configMapKeyRef;
      if (selector?.name && selector.optional !== true) {
        references.push({ name: selector.name, via: 'spec', container: container.name });
      }
    }
  }
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.configMap?.name && volume.configMap.optional !== true) {
      references.push({
        name: volume.configMap.name,
        via: 'spec',
        ...(volume.name ? { volume: volume.name } : {}),
      });
    }
    for (const projection of volume.projected?.sources ?? []) {
      if (projection.configMap?.name && projection.configMap.optional !== true) {
        references.push({
          name: projection.configMap.name,
          via: 'spec',
          ...(volume.name ? { volume: volume.name } : {}),
        });
      }
    }
  }
  return references;
}
