import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { settings } from '../../src/config/settings.js';
import { compilePolicies, evaluate, parseFacts } from '../../src/policy/index.js';
import { tempDir } from '../kit/tmp.js';
import {
  chartMetadata,
  defaultValues,
  findManifest,
  mergeValues,
  renderManifests,
  validateValues,
  valuesSchema,
  type Values,
} from './chart.js';

const badValuesDir = new URL('./bad-values/', import.meta.url);
const root = new URL('../../', import.meta.url);

function secretEnvNames(): string[] {
  return settings()
    .filter((setting) => setting.secret)
    .map((setting) => setting.env)
    .sort();
}

/** The Deployment's plain `value` variables, as the pod sees them. */
function plainEnv(manifests: ReturnType<typeof renderManifests>): Record<string, string> {
  const deployment = findManifest(manifests, 'Deployment') as unknown as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = deployment.spec.template.spec.containers[0]?.env ?? [];
  return Object.fromEntries(
    env.flatMap((entry) => (entry.value === undefined ? [] : [[entry.name, entry.value]])),
  );
}

describe('chart values', () => {
  it('ship valid against values.schema.json', () => {
    expect(validateValues(defaultValues())).toEqual([]);
  });

  it('default to a shadow-only, read-only first rollout', () => {
    const values = defaultValues();
    expect(values.actions).toEqual({ enabled: false, statefulSets: false });
    expect((values.policy as Values).maxMode).toBe('shadow');
    expect(values.replicaCount).toBe(1);
  });

  const badFiles = readdirSync(badValuesDir).filter((file) => file.endsWith('.yaml'));
  it.each(badFiles)('reject %s with a clear message', (file) => {
    const text = readFileSync(new URL(file, badValuesDir), 'utf8');
    const expected = /^# expect: (.+)$/m.exec(text)?.[1];
    expect(expected, `${file} starts with "# expect: <message>"`).toBeDefined();
    const problems = validateValues(mergeValues(defaultValues(), parse(text) as Values));
    expect(
      problems.some((problem) => problem.startsWith(expected as string)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('name every secret setting, and only those', () => {
    const keys = (defaultValues().secrets as { keys: Record<string, string> }).keys;
    expect(Object.keys(keys).sort()).toEqual(secretEnvNames());
    const schemaNames = (
      valuesSchema() as {
        properties: { secrets: { properties: { keys: { propertyNames: { enum: string[] } } } } };
      }
    ).properties.secrets.properties.keys.propertyNames.enum;
    expect([...schemaNames].sort()).toEqual(secretEnvNames());
  });

  it('refuse every secret setting inside config', () => {
    for (const setting of settings().filter((candidate) => candidate.secret)) {
      const config: Values = {};
      let node = config;
      for (const part of setting.path.slice(0, -1)) node = node[part] = {};
      node[setting.path[setting.path.length - 1] as string] = 'value';
      const problems = validateValues(mergeValues(defaultValues(), { config }));
      expect(problems, setting.key).toContain(
        `config.${setting.key}: is a secret; put it in the Secret named by secrets.existingSecret`,
      );
    }
  });

  it('keep the chart version in step with the package', () => {
    const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      version: string;
    };
    expect(chartMetadata().appVersion).toBe(packageJson.version);
    expect(chartMetadata().apiVersion).toBe('v2');
  });
});

describe('the rendered configuration', () => {
  it('loads with the daemon’s own loader, with the environment the Deployment sets', () => {
    const dir = tempDir();
    const manifests = renderManifests();
    const configMap = findManifest(manifests, 'ConfigMap', 'nightshift') as unknown as {
      data: Record<string, string>;
    };
    const env = plainEnv(manifests);
    const file = join(dir, 'nightshift.yaml');
    writeFileSync(file, configMap.data['nightshift.yaml'] ?? '');
    expect(env.NIGHTSHIFT_CONFIG).toBe('/etc/nightshift/nightshift.yaml');
    const config = loadConfig({ env: { ...env, NIGHTSHIFT_CONFIG: file }, cwd: dir });
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.port).toBe(defaultValues().containerPort);
    expect(config.dataDir).toBe('/var/lib/nightshift');
    expect(config.integrations.kubernetes.mode).toBe('in-cluster');
    expect(config.graph.backend).toBe('embedded');
  });

  it('caps every decision at the configured mode, on top of the shipped policy', () => {
    const policies = (maxMode: string): ReturnType<typeof compilePolicies> => {
      const manifests = renderManifests({ policy: { maxMode } });
      const configMap = findManifest(manifests, 'ConfigMap', '-policies') as unknown as {
        data: Record<string, string>;
      };
      return compilePolicies([
        { file: 'default.yaml', text: readFileSync(new URL('policies/default.yaml', root), 'utf8') },
        { file: 'chart-rollout.yaml', text: configMap.data['chart-rollout.yaml'] ?? '' },
      ]);
    };
    const facts = parseFacts({
      action: { kind: 'k8s.rolloutRestart', params: {} },
      target: { kind: 'Deployment', name: 'catalog', environment: 'staging' },
      now: { hour: 14, weekday: 3, maintenance: false, freeze: false },
      recent: { perTarget: 0, perCluster: 0, failures: 0 },
    });
    if (!facts.ok) throw new Error(JSON.stringify(facts.issues));
    const decide = (maxMode: string): string => {
      const loaded = policies(maxMode);
      if (!('ok' in loaded)) throw new Error(JSON.stringify(loaded.errors));
      return evaluate(loaded.ok, { facts: facts.facts }).mode;
    };
    expect(decide('autonomous')).toBe('autonomous');
    expect(decide('shadow')).toBe('shadow');
    expect(decide('approval')).toBe('approval');
  });
});
