import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { NON_SETTING_ENV, settings } from '../../src/config/settings.js';
import { tempDir } from '../kit/tmp.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  env_file?: unknown[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  read_only?: boolean;
  user?: string;
  tmpfs?: string[];
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service>; volumes: Record<string, unknown> };

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}`, with the given shell variables. */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (_whole, name: string, operator?: string, word?: string) => {
      const set = shell[name];
      if (set !== undefined && set !== '') return set;
      if (operator === '?') throw new Error(`compose requires ${name}: ${word ?? ''}`);
      return operator === '-' ? (word ?? '') : '';
    },
  );
}

function environment(name: string, shell: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value), shell),
    ]),
  );
}

const shell = { NEO4J_PASSWORD: 'local-password-123' };

describe('docker-compose.yml', () => {
  it('runs Redis, Neo4j 5 LTS and nightshift, with the demo behind a profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['demo', 'neo4j', 'nightshift', 'redis']);
    expect(service('neo4j').image).toMatch(/^neo4j:5\.26(\.\d+)?-community$/);
    expect(service('redis').image).toMatch(/^redis:7/);
    expect(service('demo').profiles).toEqual(['demo']);
    expect(service('demo').command).toEqual(['demo']);
    expect(service('nightshift').command).toEqual(['run']);
    for (const name of ['redis', 'neo4j', 'nightshift']) expect(service(name).profiles).toBeUndefined();
  });

  it('takes the Neo4j password from the environment and refuses to start without it', () => {
    const auth = String(service('neo4j').environment?.NEO4J_AUTH);
    expect(auth).toMatch(/^neo4j\/\$\{NEO4J_PASSWORD:\?[^}]+\}$/);
    expect(() => environment('nightshift', {})).toThrow(/compose requires NEO4J_PASSWORD/);
    expect(interpolate(auth, shell)).toBe(`neo4j/${shell.NEO4J_PASSWORD}`);
    expect(environment('nightshift', shell).NEO4J_PASSWORD).toBe(shell.NEO4J_PASSWORD);
  });

  it('gives every service a healthcheck and starts nightshift after healthy dependencies', () => {
    for (const name of Object.keys(compose.services)) {
      expect(service(name).healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(0);
    }
    expect(service('nightshift').depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      neo4j: { condition: 'service_healthy' },
    });
    expect(service('nightshift').healthcheck?.test.join(' ')).toContain('/healthz');
  });

  it('uses only variables the configuration knows', () => {
    const known = new Set([
      ...settings().flatMap((setting) =>
        setting.secret ? [setting.env, `${setting.env}_FILE`] : [setting.env],
      ),
      ...NON_SETTING_ENV,
    ]);
    for (const name of ['nightshift', 'demo']) {
      for (const variable of Object.keys(service(name).environment ?? {})) {
        expect(known.has(variable), `${name}: ${variable} is not a setting`).toBe(true);
      }
    }
  });

  it('gives the daemon a configuration that loads, wired to the Redis and Neo4j services', () => {
    const config = loadConfig({ env: environment('nightshift', shell), cwd: tempDir() });
    expect(config.graph.backend).toBe('neo4j');
    expect(new URL(config.graph.neo4j.uri ?? '').hostname).toBe('neo4j');
    expect(new URL(config.redis.url).hostname).toBe('redis');
    expect(config.graph.neo4j.password?.reveal()).toBe(shell.NEO4J_PASSWORD);
    expect(config.server.host).toBe('0.0.0.0');

    const demo = loadConfig({ env: environment('demo', shell), cwd: tempDir() });
    expect(demo.graph.backend).toBe('embedded');
    expect(demo.redis.prefix).not.toBe(config.redis.prefix);
    expect(demo.integrations.anthropic.apiKey).toBeUndefined();
  });

  it('runs nightshift read-only as the image user, with state on named volumes', () => {
    for (const name of ['nightshift', 'demo']) {
      const daemon = service(name);
      expect(daemon.read_only).toBe(true);
      expect(daemon.user).toBe('10001:10001');
      expect(daemon.tmpfs).toContain('/tmp');
      const dataDir = daemon.environment?.NIGHTSHIFT_DATA_DIR;
      expect(daemon.volumes?.map((volume) => volume.split(':')[1])).toContain(dataDir);
      const port = daemon.environment?.NIGHTSHIFT_PORT;
      for (const mapping of daemon.ports ?? []) {
        expect(mapping.startsWith('127.0.0.1:'), `${name} publishes on localhost only`).toBe(true);
        expect(mapping.endsWith(`:${port}`)).toBe(true);
      }
    }
    for (const [name, definition] of Object.entries(compose.services)) {
      for (const volume of definition.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `${name}: volume ${source}`).toContain(source);
        }
      }
    }
  });
});
