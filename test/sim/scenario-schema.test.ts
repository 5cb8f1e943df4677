import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/shared/errors.js';
import { FAULT_KINDS } from '../../src/sim/scenario/fault-schema.js';
import { loadEstate, loadScenario, parseScenario } from '../../src/sim/scenario/load.js';
import { tempDir } from '../kit/tmp.js';
import { EVALS_DIR } from './world-kit.js';

function writeScenario(dir: string, name: string, text: string): string {
  mkdirSync(join(dir, 'scenarios'), { recursive: true });
  const file = join(dir, 'scenarios', `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const HEAD = 'apiVersion: nightshift.dev/v1\nkind: Scenario\nname: broken\nestate: shop\n';

describe('estate and scenario files', () => {
  it('loads the shipped estates and the example scenario', () => {
    const shop = loadEstate('shop', { evalsDir: EVALS_DIR }).estate;
    expect(shop.services.map((service) => service.name)).toEqual(
      expect.arrayContaining([
        'frontend',
        'checkout',
        'payments',
        'catalog',
        'recommendation',
        'cart',
        'search',
        'shipping',
        'notifications',
        'postgres-orders',
        'redis-session',
        'rabbitmq',
      ]),
    );
    expect(loadEstate('minimal', { evalsDir: EVALS_DIR }).estate.services.length).toBeGreaterThanOrEqual(3);
    const scenario = loadScenario('bad-deploy-checkout', { evalsDir: EVALS_DIR });
    expect(scenario.estate.name).toBe('shop');
    expect(scenario.timeline.map((entry) => entry.at)).toEqual([20_000, 60_000, 70_000, 75_000, 80_000]);
    expect(scenario.expect).toMatchObject({
      detectWithin: 60_000,
      mitigatedWithin: 300_000,
      remediation: { actions: ['k8s.rollback'], target: 'checkout' },
    });
  });

  it('refuses a file that breaks the schema, naming the file, the field and the reason', () => {
    const dir = tempDir();
    const file = writeScenario(
      dir,
      'broken',
      `${HEAD}timeline:\n  - at: 60s\n    fault: {kind: bad_deploy, service: checkout, errorRate: 3}\n`,
    );
    const error = refusal(() => loadScenario(file, { evalsDir: EVALS_DIR, cwd: dir }));
    const atMostOne: unknown = expect.stringMatching(/<=\s*1|less than or equal to 1/);
    expect(error.message).toContain('scenarios/broken.yaml');
    expect(error.issues).toEqual([
      {
        path: 'timeline.0.fault.errorRate',
        message: atMostOne,
      },
    ]);
  });

  it('refuses typos, unknown fault kinds, durations without a unit and unknown services', () => {
    const dir = tempDir();
    const cases: Array<[string, string, RegExp]> = [
      [`${HEAD}timeline:\n  - at: 60s\n    deplyo: {service: checkout}\n`, 'timeline.0', /deplyo/],
      [
        `${HEAD}timeline:\n  - at: 60s\n    fault: {kind: meltdown, service: checkout}\n`,
        'timeline.0.fault.kind',
        /bad_deploy/,
      ],
      [`${HEAD}timeline:\n  - at: 60\n    slack: {channel: c, user: u, text: t}\n`, 'timeline.0.at', /.+/],
      [
        `${HEAD}timeline:\n  - at: 60s\n    fault: {kind: bad_deploy, service: chekout}\n`,
        'timeline.0.fault.service',
        /unknown service "chekout"/,
      ],
      [
        `${HEAD}timeline:\n  - at: 5s\n    slack: {channel: c, user: u, text: t}\n    logs: {service: cart, lines: [x]}\n`,
        'timeline.0',
        /one per entry/,
      ],
      [
        `${HEAD}expect: {rootCause: {service: checkout, fault: bad_deploy}, mode: yolo}\n`,
        'expect.mode',
        /.+/,
      ],
      [
        `${HEAD}timeline:\n  - at: 1m\n    fault: {kind: connection_pool_exhaustion, service: checkout, datastore: cart}\n`,
        'timeline.0.fault.datastore',
        /not a datastore/,
      ],
    ];
    cases.forEach(([text, path, reason], index) => {
      const file = writeScenario(dir, `case-${index}`, text);
      const error = refusal(() => loadScenario(file, { evalsDir: EVALS_DIR }));
      expect(error.message, text).toContain(`case-${index}.yaml`);
      const issue = error.issues.find((candidate) => candidate.path === path);
      expect(issue, `${text} → ${error.message}`).toBeDefined();
      expect(issue?.message).toMatch(reason);
    });
  });

  it('accepts an inline estate and a path relative to the scenario file', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'estates'), { recursive: true });
    writeFileSync(
      join(dir, 'estates', 'tiny.yaml'),
      'apiVersion: nightshift.dev/v1\nkind: Estate\nname: tiny\nservices:\n  - {name: web, namespace: app}\n',
    );
    const file = writeScenario(
      dir,
      'relative',
      'apiVersion: nightshift.dev/v1\nkind: Scenario\nname: relative\nestate: ../estates/tiny.yaml\n',
    );
    expect(loadScenario(file).estate.name).toBe('tiny');
    const inline = parseScenario({
      apiVersion: 'nightshift.dev/v1',
      kind: 'Scenario',
      name: 'inline',
      estate: {
        apiVersion: 'nightshift.dev/v1',
        kind: 'Estate',
        name: 'inline',
        services: [{ name: 'web' }],
      },
    });
    expect(inline).toMatchObject({
      seed: 1,
      speed: 30,
      approvals: 'approve',
      timeline: [],
      expect: { forbidden: [] },
    });
  });

  it('refuses an estate that names an unknown dependency', () => {
    const error = refusal(() =>
      parseScenario({
        apiVersion: 'nightshift.dev/v1',
        kind: 'Scenario',
        name: 'x',
        estate: {
          apiVersion: 'nightshift.dev/v1',
          kind: 'Estate',
          name: 'x',
          services: [{ name: 'web', dependsOn: ['db'] }],
        },
      }),
    );
    expect(error.issues).toEqual([
      { path: 'estate.services.0.dependsOn.0', message: 'unknown service "db"' },
    ]);
  });

  it('accepts every fault kind with its defaults', () => {
    for (const kind of FAULT_KINDS) {
      const extra = kind === 'connection_pool_exhaustion' ? { datastore: 'postgres-orders' } : {};
      const scenario = parseScenario(
        {
          apiVersion: 'nightshift.dev/v1',
          kind: 'Scenario',
          name: kind.replaceAll('_', '-'),
          estate: 'shop',
          timeline: [{ at: '1m', fault: { kind, service: 'checkout', ...extra } }],
        },
        { evalsDir: EVALS_DIR },
      );
      expect(scenario.timeline[0]?.fault?.kind).toBe(kind);
    }
  });
});
