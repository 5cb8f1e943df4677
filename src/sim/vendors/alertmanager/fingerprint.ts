const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * An alert's fingerprint as Prometheus computes it (`model.LabelSet.Fingerprint`): FNV-1a 64
 * over the label names and values sorted by name, each followed by a 0xff byte; 16 hex digits.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = OFFSET;
  const feed = (bytes: Uint8Array): void => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  };
  const encoder = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    feed(encoder.encode(name));
    feed(Uint8Array.of(SEPARATOR));
    feed(encoder.encode(labels[name] ?? ''));
    feed(Uint8Array.of(SEPARATOR));
  }
  return hash.toString(16).padStart(16, '0');
}
