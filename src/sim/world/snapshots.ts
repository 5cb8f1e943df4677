/** The state of a service's pods at one time, as metrics need it. */
export interface ServiceSnapshot {
  t: number;
  /** Desired replicas. */
  desired: number;
  /** Pods ready (serving). */
  ready: number;
  /** Ready pods by code fingerprint of their template. */
  readyByFingerprint: Readonly<Record<string, number>>;
  /** Container restarts summed over current pods. */
  restarts: number;
}

function sameSnapshot(a: ServiceSnapshot, b: ServiceSnapshot): boolean {
  if (a.desired !== b.desired || a.ready !== b.ready || a.restarts !== b.restarts) return false;
  const keysA = Object.keys(a.readyByFingerprint);
  if (keysA.length !== Object.keys(b.readyByFingerprint).length) return false;
  return keysA.every((key) => a.readyByFingerprint[key] === b.readyByFingerprint[key]);
}

/** Append-only per-service snapshots; `at(service, t)` answers the one in force at t. */
export class SnapshotHistory {
  readonly #byService = new Map<string, ServiceSnapshot[]>();

  /** Appends a snapshot if it differs from the last one (times must not go backwards). */
  record(service: string, snapshot: ServiceSnapshot): void {
    let list = this.#byService.get(service);
    if (!list) {
      list = [];
      this.#byService.set(service, list);
    }
    const last = list[list.length - 1];
    if (last && sameSnapshot(last, snapshot)) return;
    if (last && last.t === snapshot.t) list[list.length - 1] = snapshot;
    else list.push(snapshot);
  }

  /** The snapshot in force at `t`, or undefined before the first. */
  at(service: string, t: number): ServiceSnapshot | undefined {
    const list = this.#byService.get(service);
    if (!list || list.length === 0) return undefined;
    let low = 0;
    let high = list.length - 1;
    let found: ServiceSnapshot | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const candidate = list[middle];
      if (candidate && candidate.t <= t) {
        found = candidate;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found ?? list[0];
  }
}
