import type { Analyzer } from './analyzer.js';
import { truncate } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding } from './finding.js';
import { displayName, podOwner, referenceTo } from './owner.js';
import { containerOfFieldPath, podContainers } from './pod-containers.js';

/** Why a pull failed, classified from the runtime's error text. */
export type PullFailureCause =
  'not-found' | 'access-denied' | 'not-found-or-access-denied' | 'rate-limited' | 'network' | 'unknown';

const backOffReasons = new Set(['ImagePullBackOff', 'ErrImagePull']);
const otherReasons = new Set(['InvalidImageName', 'ErrImageNeverPull']);

/**
 * Containers (init containers included) that cannot get their image. `ImagePullBackOff` and
 * `ErrImagePull` alternate while the kubelet retries, so both give kind `ImagePullBackOff` (one
 * stable fingerprint) with the current waiting reason as `reason`; `InvalidImageName` and
 * `ErrImageNeverPull` are kinds of their own. Evidence names the image, the kubelet's last pull
 * error (from `Failed` events) and a classified cause.
 */
export const imagePullAnalyzer: Analyzer = {
  name: 'image-pull',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const pod of context.snapshot.pods ?? []) {
      const object = referenceTo('Pod', pod);
      if (!object) continue;
      const events = context.eventsFor('Pod', object.namespace, object.name, pod.metadata?.uid);
      const failing = podContainers(pod).flatMap((container) => {
        const waitingReason = container.status?.state?.waiting?.reason;
        if (
          waitingReason === undefined ||
          !(backOffReasons.has(waitingReason) || otherReasons.has(waitingReason))
        ) {
          return [];
        }
        const image = container.spec?.image ?? container.status?.image;
        const pullErrors = events.filter(
          (event) =>
            event.reason === 'Failed' &&
            /^Failed to pull image/.test(event.message ?? '') &&
            (containerOfFieldPath(event.involvedObject?.fieldPath) ?? container.name) === container.name,
        );
        const pullError = pullErrors.at(-1)?.message;
        const waitingMessage = container.status?.state?.waiting?.message;
        return [
          {
            name: container.name,
            init: container.init,
            image,
            waitingReason,
            waitingMessage: truncate(waitingMessage),
            pullError: truncate(pullError),
            cause: classifyPullFailure(`${pullError ?? ''} ${waitingMessage ?? ''}`),
          },
        ];
      });
      const byKind = new Map<string, typeof failing>();
      for (const container of failing) {
        const kind = backOffReasons.has(container.waitingReason)
          ? 'ImagePullBackOff'
          : container.waitingReason;
        byKind.set(kind, [...(byKind.get(kind) ?? []), container]);
      }
      for (const [kind, containers] of byKind) {
        const first = containers[0];
        if (!first) continue;
        const images = containers.map((container) => container.image).filter((image) => image !== undefined);
        findings.push(
          createFinding({
            analyzer: 'image-pull',
            kind,
            severity: 'warning',
            object,
            owner: podOwner(pod, context),
            reason: first.waitingReason,
            message: `Pod ${displayName(object)} cannot pull ${containers
              .map((container) => `image ${container.image ?? '(unknown)'} for container ${container.name}`)
              .join(', ')} (${first.waitingReason}${first.cause === 'unknown' ? '' : `, ${first.cause}`})`,
            evidence: { image: first.image, images, cause: first.cause, containers },
          }),
        );
      }
    }
    return findings;
  },
};

/** Classifies a pull error from containerd, CRI-O or Docker; `unknown` when nothing matches. */
export function classifyPullFailure(text: string): PullFailureCause {
  if (/toomanyrequests|rate limit|429 Too Many Requests/i.test(text)) return 'rate-limited';
  if (
    /repository does not exist or may require authorization|requested access to the resource is denied/i.test(
      text,
    )
  ) {
    return 'not-found-or-access-denied';
  }
  if (/manifest unknown|not found|no such image|name unknown/i.test(text)) return 'not-found';
  if (
    /unauthorized|authentication required|insufficient_scope|403 Forbidden|pull access denied/i.test(text)
  ) {
    return 'access-denied';
  }
  if (
    /dial tcp|i\/o timeout|no such host|connection refused|TLS handshake|x509|context deadline exceeded/i.test(
      text,
    )
  ) {
    return 'network';
  }
  return 'unknown';
}
