import { factsSchema, type Facts, type FactsInput } from './facts.js';
import { compilePolicies, formatProblem } from './load.js';
import type { PolicySet } from './policy-set.js';

/**
 * Builds a policy set from one YAML text (a `Policy` document, or just its `spec` body when
 * `wrap` is true) and throws with every `file:line: message` when it is invalid. For tests.
 */
export function policySetFrom(text: string, options: { wrap?: boolean; file?: string } = {}): PolicySet {
  const body = options.wrap === false ? text : wrapSpec(text);
  const result = compilePolicies([{ file: options.file ?? 'test.yaml', text: body }]);
  if ('errors' in result) throw new Error(result.errors.map(formatProblem).join('\n'));
  return result.ok;
}

/** A `Policy` document around a `spec` body given as YAML lines. */
export function wrapSpec(spec: string, name = 'test'): string {
  const indented = spec
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `  ${line}`))
    .join('\n');
  return `apiVersion: nightshift.dev/v1\nkind: Policy\nmetadata:\n  name: ${name}\nspec:\n${indented}\n`;
}

/** Valid facts for a stateless, standard Deployment in prod, with `overrides` applied on top. */
export function factsWith(
  overrides: Omit<Partial<FactsInput>, 'target'> & {
    action: FactsInput['action'];
    target?: Partial<FactsInput['target']>;
  },
): Facts {
  return factsSchema.parse({
    now: { hour: 10, weekday: 2 },
    ...overrides,
    target: {
      kind: 'Deployment',
      name: 'catalog',
      namespace: 'shop',
      environment: 'prod',
      tier: 'standard',
      stateful: false,
      replicas: 3,
      ...overrides.target,
    },
  });
}
