import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NON_SETTING_ENV, settings } from '../../src/config/settings.js';
import {
  parseDockerfile,
  parseFlags,
  parseInstructions,
  parsePairs,
  type Instruction,
  type Stage,
} from './dockerfile.js';

const root = new URL('../../', import.meta.url);
const dockerfile = parseDockerfile(readFileSync(new URL('Dockerfile', root), 'utf8'));
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
};
const runtime = dockerfile.stages[dockerfile.stages.length - 1] as Stage;

function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function last(stage: Stage, keyword: string): Instruction {
  const found = all(stage, keyword);
  const instruction = found[found.length - 1];
  if (!instruction) throw new Error(`the runtime stage has no ${keyword}`);
  return instruction;
}

function runtimeEnv(): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of all(runtime, 'ENV')) {
    for (const [name, value] of parsePairs(instruction.args)) env.set(name, value);
  }
  return env;
}

function defaultSetting(env: string): unknown {
  return settings().find((setting) => setting.env === env)?.default;
}

describe('the Dockerfile reader', () => {
  it('joins continuations, skips comments inside them and reads exec form', () => {
    const instructions = parseInstructions(
      [
        '# comment',
        'RUN a \\',
        '  # dropped',
        '',
        '  && b',
        'CMD ["run", "--x"]',
        'env A=1 B="two words"',
      ].join('\n'),
    );
    expect(instructions.map((instruction) => instruction.keyword)).toEqual(['RUN', 'CMD', 'ENV']);
    expect(instructions[0]).toMatchObject({ args: 'a && b', line: 2 });
    expect(instructions[1]?.json).toEqual(['run', '--x']);
    expect([...parsePairs(instructions[2]?.args ?? '')]).toEqual([
      ['A', '1'],
      ['B', 'two words'],
    ]);
    expect([...parsePairs('LEGACY some value')]).toEqual([['LEGACY', 'some value']]);
  });

  it('reads flags and substitutes global ARGs into FROM', () => {
    const { flags, rest } = parseFlags('--from=build --chown=1:1 /src/dist ./dist');
    expect(Object.fromEntries(flags)).toEqual({ from: 'build', chown: '1:1' });
    expect(rest).toEqual(['/src/dist', './dist']);
    const parsed = parseDockerfile('ARG BASE=node:20-slim\nFROM ${BASE} AS one\nRUN x\nFROM one\n');
    expect(parsed.stages.map((stage) => [stage.base, stage.name])).toEqual([
      ['node:20-slim', 'one'],
      ['one', undefined],
    ]);
  });

  it('rejects what Docker would reject', () => {
    expect(() => parseDockerfile('RUN x\n')).toThrow(/only ARG may come before/);
    expect(() => parseDockerfile('FROM a AS\n')).toThrow(/FROM needs/);
    expect(() => parseInstructions('RUN "unterminated\n')).not.toThrow();
    expect(() => parsePairs('A="unterminated')).toThrow(/unterminated quote/);
    expect(() => parsePairs('A=1 B')).toThrow(/not NAME=value/);
  });
});

describe('the Dockerfile', () => {
  it('builds in several stages onto a Node 20 slim runtime', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const names = dockerfile.stages.map((stage) => stage.name);
    expect(new Set(names).size).toBe(names.length);
    expect(runtime.base).toMatch(/^node:20(\.\d+)*-(bookworm-|bullseye-)?slim$/);
  });

  it('compiles with every dependency and ships production dependencies only', () => {
    const runs = (stage: Stage): string =>
      all(stage, 'RUN')
        .map((instruction) => instruction.args)
        .join('\n');
    const build = dockerfile.stages.find((stage) => /\bnpm run build\b/.test(runs(stage)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(runs(build as Stage)).toMatch(/\bnpm ci\b(?!.*--omit=dev)/);
    const production = dockerfile.stages.find((stage) => /\bnpm ci\b.*--omit=dev/.test(runs(stage)));
    expect(production, 'a stage runs npm ci --omit=dev').toBeDefined();

    const copies = all(runtime, 'COPY').map((instruction) => parseFlags(instruction.args));
    const fromStage = (stage: Stage | undefined, path: string): boolean =>
      copies.some(
        (copy) => copy.flags.get('from') === stage?.name && copy.rest.some((word) => word.endsWith(path)),
      );
    expect(fromStage(production, 'node_modules'), 'node_modules come from the production stage').toBe(true);
    expect(fromStage(build, 'dist'), 'dist comes from the build stage').toBe(true);
    expect(runs(runtime)).not.toMatch(/\bnpm (ci|install)\b/);
  });

  it('copies from earlier stages only, and ships what package.json ships', () => {
    dockerfile.stages.forEach((stage, index) => {
      const earlier = new Set(dockerfile.stages.slice(0, index).map((candidate) => candidate.name));
      for (const instruction of all(stage, 'COPY')) {
        const from = parseFlags(instruction.args).flags.get('from');
        if (from !== undefined)
          expect(earlier.has(from), `line ${instruction.line}: --from=${from}`).toBe(true);
      }
    });
    const destinations = all(runtime, 'COPY').map((instruction) => parseFlags(instruction.args).rest.at(-1));
    for (const shipped of packageJson.files) expect(destinations).toContain(`./${shipped}`);
    expect(destinations).toContain('./');
  });

  it('runs as a numeric non-root user', () => {
    const user = last(runtime, 'USER').args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    const [uid = '', gid = uid] = user.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    const userLine = last(runtime, 'USER').line;
    const afterUser = runtime.instructions.filter((instruction) => instruction.line > userLine);
    expect(afterUser.map((instruction) => instruction.keyword)).not.toContain('RUN');
  });

  it('keeps state on a volume at the data directory and binds all interfaces', () => {
    const env = runtimeEnv();
    const dataDir = env.get('NIGHTSHIFT_DATA_DIR');
    expect(dataDir).toMatch(/^\//);
    const volumes = all(runtime, 'VOLUME').flatMap((instruction) => instruction.json ?? [instruction.args]);
    expect(volumes).toContain(dataDir);
    expect(env.get('NIGHTSHIFT_HOST')).toBe('0.0.0.0');
    // The data directory is created for the runtime user, so a fresh volume is writable.
    const setup = all(runtime, 'RUN')
      .map((instruction) => instruction.args)
      .join('\n');
    expect(setup).toContain(`chown ${last(runtime, 'USER').args} ${dataDir}`);
  });

  it('exposes the default HTTP port and checks /healthz with node', () => {
    const port = String(defaultSetting('NIGHTSHIFT_PORT'));
    expect(port).toBe('8080');
    expect(last(runtime, 'EXPOSE').args.split(/\s+/)).toEqual([port]);
    expect(runtimeEnv().get('NIGHTSHIFT_PORT') ?? port).toBe(port);

    const healthcheck = last(runtime, 'HEALTHCHECK');
    const { flags, rest } = parseFlags(healthcheck.args);
    expect(rest[0]).toBe('CMD');
    const command = JSON.parse(healthcheck.args.slice(healthcheck.args.indexOf('['))) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    expect(command.join(' ')).toContain(port);
    expect(command.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    for (const option of ['interval', 'timeout', 'retries']) expect(flags.has(option)).toBe(true);
  });

  it('puts no secret in ENV or ARG, and only variables the daemon knows', () => {
    const secretNames = new Set(settings().flatMap((setting) => (setting.secret ? [setting.env] : [])));
    const known = new Set([...settings().map((setting) => setting.env), ...NON_SETTING_ENV]);
    const argNames = dockerfile.stages
      .flatMap((stage) => all(stage, 'ARG'))
      .concat(dockerfile.preamble)
      .map((instruction) => (instruction.args.split('=')[0] as string).trim());
    for (const name of [...runtimeEnv().keys(), ...argNames]) {
      expect(secretNames.has(name), `${name} is a secret`).toBe(false);
      expect(name).not.toMatch(/TOKEN|SECRET|PASSWORD|API_KEY|APP_KEY|ROUTING_KEY|CREDENTIAL/i);
      if (name.startsWith('NIGHTSHIFT_')) expect(known.has(name), `${name} is not a setting`).toBe(true);
    }
  });

  it('starts the CLI with run as the default command', () => {
    const entrypoint = last(runtime, 'ENTRYPOINT').json;
    expect(entrypoint).toEqual(['node', packageJson.bin.nightshift]);
    expect(last(runtime, 'CMD').json).toEqual(['run']);
    expect(last(runtime, 'WORKDIR').args).toBe('/app');
  });

  it('sends only what the image needs as build context', () => {
    const ignore = readFileSync(new URL('.dockerignore', root), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const contextSources = dockerfile.stages
      .flatMap((stage) => all(stage, 'COPY'))
      .map((instruction) => parseFlags(instruction.args))
      .filter((copy) => !copy.flags.has('from'))
      .flatMap((copy) => copy.rest.slice(0, -1));
    for (const source of contextSources)
      expect(allowed, `${source} is in the build context`).toContain(source);
    for (const secretish of ['**/.env', '**/.nightshift']) expect(ignore).toContain(secretish);
  });
});
