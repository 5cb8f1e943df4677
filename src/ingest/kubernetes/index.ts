export {
  DEFAULT_RESYNC_MS,
  FencedOutError,
  startKubernetesIngest,
  type KubernetesIngest,
  type KubernetesIngestOptions,
  type KubernetesIngestStats,
} from './ingest.js';
export { createKubeClient, loadKubeConfig, KubeRequestError, type KubeClient } from './kube-client.js';
export { DATA_HASH_ANNOTATION, configMapHash, stripConfigMap } from './config-maps.js';
export { hostsIn, resolveService, isExternalHost } from './dependencies.js';
export { ENV_INFERENCE_SOURCE, KUBERNETES_SOURCE, GraphProjector, configMapReferences } from './projector.js';
export { Reflector, type ReflectorChange, type ReflectorStats } from './reflector.js';
export { WATCHED_RESOURCES, type WatchedResource, type KubeObject } from './resources.js';
