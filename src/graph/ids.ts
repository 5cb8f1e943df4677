/**
 * Stable identity keys for graph entities. The same real-world thing always gets the same id,
 * whichever source reports it, so writes from different sources merge into one node.
 *
 * Parts are joined with `/`; a part that itself contains `/` or `%` has those characters
 * percent-encoded, so ids stay unambiguous (Kubernetes names never contain either).
 */

function part(value: string | number): string {
  const text = String(value);
  if (text.length === 0) throw new Error('an id part must not be empty');
  return text.includes('%') || text.includes('/') ? text.replaceAll('%', '%25').replaceAll('/', '%2F') : text;
}

/** `<scheme>:<part>/<part>/…`, each part escaped; the building block of every helper below. */
export function graphId(scheme: string, ...parts: ReadonlyArray<string | number>): string {
  return `${scheme}:${parts.map(part).join('/')}`;
}

/** A cluster: `k8s:<cluster>`. */
export function clusterId(cluster: string): string {
  return graphId('k8s', cluster);
}

/**
 * A Kubernetes object: `k8s:<cluster>/<namespace>/<Kind>/<name>` for namespaced kinds, and
 * `k8s:<cluster>/<Kind>/<name>` for cluster-scoped ones (pass `null` as the namespace), e.g.
 * `k8sId('prod', 'shop', 'Deployment', 'checkout')` → `k8s:prod/shop/Deployment/checkout`.
 * `kind` is the Kubernetes kind (Deployment, StatefulSet, Pod, Node, ConfigMap, Service…).
 */
export function k8sId(
  cluster: string,
  namespace: string | null | undefined,
  kind: string,
  name: string,
): string {
  return namespace ? graphId('k8s', cluster, namespace, kind, name) : graphId('k8s', cluster, kind, name);
}

/** A namespace: `k8s:<cluster>/Namespace/<name>`. */
export function namespaceId(cluster: string, namespace: string): string {
  return k8sId(cluster, null, 'Namespace', namespace);
}

/** A node: `k8s:<cluster>/Node/<name>`. */
export function nodeId(cluster: string, node: string): string {
  return k8sId(cluster, null, 'Node', node);
}

/** A container of a pod: `<podId>/Container/<name>`. */
export function containerId(podId: string, container: string): string {
  return `${podId}/Container/${part(container)}`;
}

/** A logical service as monitoring and tracing name it (not the Kubernetes Service object): `service:<name>`. */
export function serviceId(name: string): string {
  return graphId('service', name);
}

/** A datastore: `datastore:<engine>/<name>`, e.g. `datastore:postgres/orders`. */
export function datastoreId(engine: string, name: string): string {
  return graphId('datastore', engine, name);
}

/** A queue or topic: `queue:<system>/<name>`, e.g. `queue:kafka/payments`. */
export function queueId(system: string, name: string): string {
  return graphId('queue', system, name);
}

/** A dependency outside the estate, by host: `external:<host>`. */
export function externalId(host: string): string {
  return graphId('external', host.toLowerCase());
}

/** A feature flag: `flag:<provider>/<key>`. */
export function flagId(provider: string, key: string): string {
  return graphId('flag', provider, key);
}

/** A team: `team:<slug>`. */
export function teamId(slug: string): string {
  return graphId('team', slug.toLowerCase());
}

/** A person, by handle or e-mail: `person:<handle>`. */
export function personId(handle: string): string {
  return graphId('person', handle.toLowerCase());
}

/** A repository: `repo:<host>/<owner>/<name>`, e.g. `repoId('github.com', 'acme/shop')`. */
export function repoId(host: string, fullName: string): string {
  return `repo:${part(host.toLowerCase())}/${fullName.split('/').map(part).join('/')}`;
}

/** A commit: `commit:<host>/<owner>/<name>@<sha>`. */
export function commitId(host: string, fullName: string, sha: string): string {
  return `commit:${repoId(host, fullName).slice('repo:'.length)}@${part(sha.toLowerCase())}`;
}

/** A pull request: `pr:<host>/<owner>/<name>#<number>`. */
export function pullRequestId(host: string, fullName: string, number: number): string {
  return `pr:${repoId(host, fullName).slice('repo:'.length)}#${number}`;
}

/** A rollout of `revision` to a target (usually a workload id): `deploy:<targetId>@<revision>`. */
export function deployId(targetId: string, revision: string | number): string {
  return `deploy:${targetId}@${part(revision)}`;
}

/** A configuration change of a target at a version: `config-change:<targetId>@<version>`. */
export function configChangeId(targetId: string, version: string | number): string {
  return `config-change:${targetId}@${part(version)}`;
}

/** An alert, by its source and fingerprint: `alert:<source>/<fingerprint>`. */
export function alertId(source: string, fingerprint: string): string {
  return graphId('alert', source, fingerprint);
}

/** An incident, by nightshift's incident key: `incident:<key>`. */
export function incidentId(key: string): string {
  return graphId('incident', key);
}

/** A hypothesis of an incident: `hypothesis:<incidentKey>/<key>`. */
export function hypothesisId(incidentKey: string, key: string): string {
  return graphId('hypothesis', incidentKey, key);
}

/** An action taken or proposed, by its idempotency key: `action:<key>`. */
export function actionId(key: string): string {
  return graphId('action', key);
}

/** A runbook, by name or URL: `runbook:<ref>`. */
export function runbookId(ref: string): string {
  return graphId('runbook', ref);
}

/** A Slack thread: `slack:<channel>/<thread ts>`. */
export function slackThreadId(channel: string, threadTs: string): string {
  return graphId('slack', channel, threadTs);
}

/** A policy: `policy:<name>`. */
export function policyId(name: string): string {
  return graphId('policy', name);
}

/** A service level objective: `slo:<name>`. */
export function sloId(name: string): string {
  return graphId('slo', name);
}
