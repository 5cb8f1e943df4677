const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * A Kubernetes resource quantity (`512Mi`, `1.5Gi`, `500M`, `1e9`, `129e6`) as a number of base
 * units (bytes for memory); undefined when it is not one.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE])?)$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

function limitsOf(container: unknown): Record<string, unknown> | undefined {
  if (!container || typeof container !== 'object') return undefined;
  const resources = (container as { resources?: unknown }).resources;
  if (!resources || typeof resources !== 'object') return undefined;
  const limits = (resources as { limits?: unknown }).limits;
  return limits && typeof limits === 'object' ? (limits as Record<string, unknown>) : undefined;
}

/**
 * The largest memory limit among a pod template's containers, in bytes: what the main container
 * may grow to before it is OOMKilled. Undefined when no container has one.
 */
export function memoryLimitBytes(containers: readonly unknown[] | undefined): number | undefined {
  let largest: number | undefined;
  for (const container of containers ?? []) {
    const limit = parseQuantity(limitsOf(container)?.['memory']);
    if (limit !== undefined && limit > 0 && (largest === undefined || limit > largest)) largest = limit;
  }
  return largest;
}
