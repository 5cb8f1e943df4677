import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { graphConfig } from '../app/graph-config.js';
import { ConfigError } from '../shared/errors.js';
import { loadConfig, secretValues } from './load.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures/config');

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const file = (name: string) => () => loadConfig({ env: {}, cwd: fixtures, file: name });

describe('loadConfig', () => {
  it('applies defaults with no file and no environment', () => {
    const config = loadConfig({ env: {}, cwd: tempDir() });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 1_048_576 });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.graph.backend).toBe('embedded');
  });

  it('layers environment over file over defaults, and reads secrets from files', () => {
    const config = loadConfig({ env: { NIGHTSHIFT_PORT: '7070' }, cwd: fixtures, file: 'valid.yaml' });
    expect(config.server.port).toBe(7070);
    expect(config.integrations.slack.enabled).toBe(true);
    expect(config.integrations.slack.botToken?.reveal()).toBe('xoxb-from-a-mounted-file');
    expect(secretValues(config).sort()).toEqual(['fixture-signing-secret', 'xoxb-from-a-mounted-file']);
  });

  it('reads ./nightshift.yaml when present and NIGHTSHIFT_CONFIG names no file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'nightshift.yaml'), 'log:\n  level: debug\n');
    expect(loadConfig({ env: {}, cwd: dir }).log.level).toBe('debug');
  });

  it('reads <VAR>_FILE for secrets', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'key'), 'sk-ant-from-file\n');
    const config = loadConfig({ env: { ANTHROPIC_API_KEY_FILE: join(dir, 'key') }, cwd: dir });
    expect(config.integrations.anthropic.apiKey?.reveal()).toBe('sk-ant-from-file');
  });

  it('scopes a Neo4j graph to NEO4J_NAMESPACE, `default` when unset, and passes it to the store', () => {
    const uri = 'bolt://127.0.0.1:7687';
    const shared = loadConfig({ env: { NEO4J_URI: uri }, cwd: tempDir() });
    expect(graphConfig(shared).neo4j?.namespace).toBe('default');
    const own = loadConfig({ env: { NEO4J_URI: uri, NEO4J_NAMESPACE: 'staging-eu1' }, cwd: tempDir() });
    expect(graphConfig(own).neo4j).toMatchObject({ uri, namespace: 'staging-eu1' });
    const long = { NEO4J_NAMESPACE: 'n'.repeat(201) };
    expect(problems(() => loadConfig({ env: long, cwd: tempDir() }))).toEqual([
      'graph.neo4j.namespace: Too big: expected string to have <=200 characters (from NEO4J_NAMESPACE)',
    ]);
  });

  it('masks secrets however the config is printed', () => {
    const config = loadConfig({ env: { ANTHROPIC_API_KEY: 'sk-canary-123456' }, cwd: tempDir() });
    expect(JSON.stringify(config)).not.toContain('sk-canary-123456');
    expect(inspect(config, { depth: 10 })).not.toContain('sk-canary-123456');
    expect(String(config.integrations.anthropic.apiKey)).toBe('<secret>');
  });

  describe('refuses bad configuration with one line per problem', () => {
    it.each([
      [
        'unknown-key.yaml',
        ['server.prot: unknown key; check the spelling against the configuration reference in README.md'],
      ],
      [
        'wrong-type.yaml',
        ['server.port: Invalid input: expected number, received string (or set NIGHTSHIFT_PORT)'],
      ],
      [
        'missing-secret.yaml',
        [
          'integrations.slack.botToken: required when integrations.slack.enabled is true; set SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) or turn it off',
        ],
      ],
      [
        'unreadable-secret-file.yaml',
        [
          'integrations.anthropic.apiKey: cannot read secret file ./does-not-exist.txt (ENOENT); mount it or fix the path',
        ],
      ],
      [
        'neo4j-without-uri.yaml',
        [
          'graph.neo4j.uri: required when graph.backend is neo4j; set NEO4J_URI or use graph.backend=embedded',
        ],
      ],
      [
        'not-a-mapping.yaml',
        ['config file: not-a-mapping.yaml: the top level must be a mapping of settings'],
      ],
      [
        'missing-file.yaml',
        ['config file: cannot read missing-file.yaml (ENOENT); check the --config path or NIGHTSHIFT_CONFIG'],
      ],
    ])('%s', (name, expected) => {
      expect(problems(file(name))).toEqual(expected);
    });

    it('broken YAML names the file and line', () => {
      const [line] = problems(file('broken-yaml.yaml'));
      expect(line).toMatch(/^config file: broken-yaml\.yaml:\d+: /);
    });

    it('an unreadable *_FILE variable names the variable and the fix', () => {
      expect(
        problems(() => loadConfig({ env: { DD_API_KEY_FILE: '/nonexistent/dd' }, cwd: fixtures })),
      ).toEqual([
        'integrations.datadog.apiKey: cannot read DD_API_KEY_FILE=/nonexistent/dd (ENOENT); mount the file or unset DD_API_KEY_FILE',
      ]);
    });

    it('a wrong type from the environment names the variable', () => {
      expect(
        problems(() => loadConfig({ env: { NIGHTSHIFT_SLACK_ENABLED: 'maybe' }, cwd: fixtures })),
      ).toEqual([
        'integrations.slack.enabled: Invalid input: expected boolean, received string (from NIGHTSHIFT_SLACK_ENABLED)',
      ]);
    });

    it('an unknown NIGHTSHIFT_ variable is refused, and all problems are listed at once', () => {
      expect(
        problems(() => loadConfig({ env: { NIGHTSHIFT_PROT: '1', NIGHTSHIFT_PORT: 'x' }, cwd: fixtures })),
      ).toEqual([
        'NIGHTSHIFT_PROT: unknown environment variable; see the configuration reference in README.md',
        'server.port: Invalid input: expected number, received string (from NIGHTSHIFT_PORT)',
      ]);
    });
  });

  it('reads list settings comma-separated from the environment', () => {
    const config = loadConfig({
      env: { NIGHTSHIFT_SLACK_MESSAGE_CHANNELS: ' C01, C02 ,,C03 ', NIGHTSHIFT_MCP_ALLOWED_ORIGINS: '' },
      cwd: tempDir(),
    });
    expect(config.integrations.slack.messageChannels).toEqual(['C01', 'C02', 'C03']);
    expect(config.mcp.server.allowedOrigins).toEqual([]);
  });

  it('takes file-only settings from YAML and refuses them in no environment variable', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'nightshift.yaml'),
      'mcp:\n  clients:\n    - { name: docs, url: "http://127.0.0.1:9/mcp", allow: [search], readOnly: true }\n',
    );
    const config = loadConfig({ env: {}, cwd: dir });
    expect(config.mcp.clients).toEqual([
      { name: 'docs', url: 'http://127.0.0.1:9/mcp', allow: ['search'], readOnly: true },
    ]);
    expect(problems(() => loadConfig({ env: { NIGHTSHIFT_MCP_CLIENTS: '[]' }, cwd: dir }))).toEqual([
      'NIGHTSHIFT_MCP_CLIENTS: unknown environment variable; see the configuration reference in README.md',
    ]);
  });

  it("takes the rules planner's query templates from YAML, and names an unknown one", () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'nightshift.yaml'),
      'investigate:\n  queries:\n    cpu: \'sum(my_cpu{app="$service"})\'\n',
    );
    expect(loadConfig({ env: {}, cwd: dir }).investigate.queries).toEqual({
      cpu: 'sum(my_cpu{app="$service"})',
    });
    writeFileSync(join(dir, 'nightshift.yaml'), 'investigate:\n  queries:\n    gpu: x\n');
    const lines = problems(() => loadConfig({ env: {}, cwd: dir }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^investigate\.queries/);
  });

  it('takes silences and maintenance windows from YAML, and names each problem of a bad one', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'nightshift.yaml'),
      [
        'loop:',
        '  silences:',
        '    - id: db-upgrade',
        '      kind: maintenance',
        '      matchers: [{ name: entity, value: ".*postgres.*", isRegex: true }]',
        "      startsAt: '2026-12-08T01:00:00Z'",
        "      endsAt: '2026-12-08T03:00:00Z'",
        '  learnNoise: { after: 5 }',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, cwd: dir });
    expect(config.loop.silences).toEqual([
      {
        id: 'db-upgrade',
        kind: 'maintenance',
        matchers: [{ name: 'entity', value: '.*postgres.*', isRegex: true }],
        startsAt: '2026-12-08T01:00:00Z',
        endsAt: '2026-12-08T03:00:00Z',
      },
    ]);
    expect(config.loop.learnNoise).toEqual({
      after: 5,
      withinMs: 86_400_000,
      maxDurationMs: 900_000,
      forMs: 604_800_000,
    });
    writeFileSync(
      join(dir, 'nightshift.yaml'),
      [
        'loop:',
        '  silences:',
        '    - id: broken',
        '      matchers: [{ name: alertname, value: "(", isRegex: true }]',
        "      startsAt: '2026-12-08T03:00:00Z'",
        "      endsAt: '2026-12-08T01:00:00Z'",
        '    - id: empty',
        '      matchers: []',
        "      endsAt: 'tomorrow'",
        '',
      ].join('\n'),
    );
    const lines = problems(() => loadConfig({ env: {}, cwd: dir }));
    expect(lines.join('\n')).toContain('loop.silences.0.matchers.0.value');
    expect(lines.join('\n')).toContain('loop.silences.1.matchers');
    expect(lines.join('\n')).toContain('loop.silences.1.endsAt');
  });
});
