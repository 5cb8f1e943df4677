/**
 * Compiles a glob where `*` stands for any run of characters (dots included), so `k8s.*`
 * matches every Kubernetes action and `k8s.delete*` every delete. Matching is whole-string
 * and case-sensitive.
 */
export function compileGlob(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*')) return (text) => text === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (text) => regex.test(text);
}

/** A matcher for any of the patterns. */
export function compileGlobs(patterns: readonly string[]): (text: string) => boolean {
  const matchers = patterns.map(compileGlob);
  return (text) => matchers.some((matches) => matches(text));
}
