import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/sim/scenario/fault-schema.js';
import { loadScenario, type Scenario } from '../../src/sim/scenario/load.js';
import { createWorld } from '../../src/sim/world/world.js';
import { EVALS_DIR, START } from './world-kit.js';

const dir = join(EVALS_DIR, 'scenarios');
const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
const scenarios = files.map((file) => loadScenario(join(dir, file), { evalsDir: EVALS_DIR }));

function faultsOf(scenario: Scenario): Array<{ kind: string; service: string; at: number }> {
  return scenario.timeline.flatMap((entry) =>
    'fault' in entry && entry.fault
      ? [{ kind: entry.fault.kind, service: entry.fault.service, at: entry.at }]
      : [],
  );
}

describe('the shipped eval scenarios', () => {
  it('cover what the suite promises', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(24);
    const kinds = new Set(scenarios.flatMap((scenario) => faultsOf(scenario).map((fault) => fault.kind)));
    expect([...FAULT_KINDS].filter((kind) => !kinds.has(kind))).toEqual([]);
    const noiseOnly = scenarios.filter((scenario) => scenario.expect.incident === false);
    expect(noiseOnly.length).toBeGreaterThanOrEqual(2);
    const escalations = scenarios.filter((scenario) => scenario.expect.escalate === true);
    expect(escalations.length).toBeGreaterThanOrEqual(2);
    const injections = scenarios.filter((scenario) =>
      scenario.timeline.some((entry) =>
        JSON.stringify(entry).match(/ignore previous instructions|SYSTEM OVERRIDE/i),
      ),
    );
    expect(injections.length).toBeGreaterThanOrEqual(2);
    const learning = scenarios.filter((scenario) => {
      const faults = faultsOf(scenario);
      return faults.some((a, i) =>
        faults.some((b, j) => i < j && a.kind === b.kind && a.service === b.service),
      );
    });
    expect(learning.length).toBeGreaterThanOrEqual(2);
    const withRedHerring = scenarios.filter((scenario) => {
      const cause = scenario.expect.rootCause?.service;
      return scenario.timeline.some(
        (entry) =>
          ('deploy' in entry && entry.deploy && entry.deploy.service !== cause) ||
          ('fault' in entry && entry.fault?.kind === 'flapping' && scenario.expect.incident !== false),
      );
    });
    expect(withRedHerring.length).toBeGreaterThanOrEqual(4);
  });

  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
    '%s: its faults take effect in the sim on time',
    async (_name, scenario) => {
      const world = await createWorld({ estate: scenario.estate, scenario, startMs: START });
      const faults = faultsOf(scenario);
      const last = Math.max(0, ...faults.map((fault) => fault.at));
      await world.advanceTo(START + last + 30_000);
      const states = world.faults();
      for (const fault of faults) {
        const state = states.find((each) => each.kind === fault.kind && each.startedAt === START + fault.at);
        expect(state, `${fault.kind} on ${fault.service} at ${fault.at} ms`).toBeDefined();
      }
      if (scenario.expect.rootCause?.service) {
        expect(scenario.estate.services.map((service) => service.name)).toContain(
          scenario.expect.rootCause.service,
        );
      }
      await world.clock.stop();
    },
  );
});
