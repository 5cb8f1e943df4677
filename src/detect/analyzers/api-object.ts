/**
 * The shape of a Kubernetes API object as a watch delivers it: every field optional (a watched
 * object may be partial, and the analyzers must not trust the generated types' `required`), and
 * timestamps either RFC 3339 strings (plain JSON from a watch or a fixture), `Date` (the typed
 * client's models) or `null` (the API server writes unset times such as `lastProbeTime` and
 * `eventTime` as null; other fields are omitted when empty). A `V1Pod` from
 * `@kubernetes/client-node` is assignable to `ApiObject<V1Pod>`.
 */
export type ApiObject<T> = T extends Date
  ? Date | string | null
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<ApiObject<U>>
    : T extends object
      ? { [K in keyof T]?: ApiObject<T[K]> | undefined }
      : T;

/** Milliseconds since the epoch for a Kubernetes timestamp, or undefined when absent or unparsable. */
export function timeOf(value: Date | string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The latest of the given timestamps, ignoring absent ones. */
export function latestOf(...values: ReadonlyArray<number | undefined>): number | undefined {
  let latest: number | undefined;
  for (const value of values) {
    if (value !== undefined && (latest === undefined || value > latest)) latest = value;
  }
  return latest;
}

/** Cuts long kubelet and runtime messages so a finding stays small; keeps the start, which names the cause. */
export function truncate(text: string | undefined, max = 500): string | undefined {
  if (text === undefined) return undefined;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
