import { VERSION } from '../shared/version.js';
import { join } from 'node:path';
import { auditFileReader } from '../act/audit.js';
import { loadConfig } from '../config/index.js';
import { auditCommand } from './audit.js';
import { configCheckCommand } from './config-command.js';
import { DEMO_USAGE, demoCommand } from '../demo/command.js';
import { EVAL_USAGE, evalCommand } from '../evals/command.js';
import { graphCommand } from './graph.js';
import { MCP_USAGE, mcpCommand } from './mcp.js';
import { withConfiguredGraph } from './open-graph.js';
import { policyCommand } from './policy.js';
import { SIM_USAGE, simCommand } from './sim.js';
import { UsageError, type CliIo } from './io.js';
import type { CommandEntry } from './registry.js';
import { runCommand } from './run-command.js';

/** Every command nightshift knows, in the order `--help` lists them. */
export function defaultCommands(): CommandEntry[] {
  return [
    {
      words: ['run'],
      summary: 'run the daemon (webhooks, loop workers, health and metrics)',
      usage: 'nightshift run [--config FILE]',
      run: runCommand(),
    },
    {
      words: ['config', 'check'],
      summary: 'validate the configuration and print it with secrets masked',
      usage: 'nightshift config check [--config FILE]',
      run: configCheckCommand,
    },
    {
      words: ['demo'],
      summary: 'run a scenario in the simulated estate with the whole daemon, and tell the story live',
      usage: DEMO_USAGE,
      run: demoCommand,
    },
    {
      words: ['eval'],
      summary: 'run scenarios in the sim with the whole daemon and score them (docs/evals.md)',
      usage: EVAL_USAGE,
      run: evalCommand,
    },
    {
      words: ['graph'],
      summary: 'read the knowledge graph: stats, an entity and its neighbours, a blast radius',
      usage: 'nightshift graph stats|show <id>|blast-radius <id> [--depth N] [--direction D] [--json]',
      run: withConfiguredGraph(graphCommand),
    },
    {
      words: ['policy', 'test'],
      summary: 'run the policy table tests of a directory (default policies/) and print a table',
      usage: 'nightshift policy test [DIR]',
      run: (argv, io) => policyCommand(['test', ...argv], io),
    },
    {
      words: ['audit'],
      summary: 'print the audit log: every decision and action, who, what, why and the rule',
      usage: 'nightshift audit [--incident ID] [--since 1h|ISO-time] [--json]',
      run: auditCommand((io) => {
        const config = loadConfig({ env: io.env, cwd: io.cwd });
        return Promise.resolve(auditFileReader(join(config.dataDir, 'audit.jsonl')));
      }),
    },
    {
      words: ['mcp'],
      summary: 'serve incidents, the graph and policy dry runs to an MCP client over stdio',
      usage: MCP_USAGE,
      run: mcpCommand(),
    },
    {
      words: ['sim'],
      summary: 'run a simulated estate (Kubernetes API and vendor fakes) on loopback',
      usage: SIM_USAGE,
      run: simCommand,
    },
  ];
}

function overview(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((command) => command.words.join(' ').length));
  const lines = commands.map((command) => `  ${command.words.join(' ').padEnd(width)}  ${command.summary}`);
  return [
    `nightshift ${VERSION}: an autonomous SRE agent`,
    '',
    'Usage: nightshift <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options: --help (on any command), --version',
    '',
  ].join('\n');
}

/**
 * Parses argv, runs the matching command and resolves to its exit code. Bad usage prints one
 * line per problem on stderr and resolves 2. Never calls `process.exit`.
 */
export async function runCli(argv: string[], io: CliIo, commands = defaultCommands()): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(overview(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const match = [...commands]
    .sort((a, b) => b.words.length - a.words.length)
    .find((command) => command.words.every((word, index) => argv[index] === word));
  if (!match) {
    const group = commands.filter((command) => command.words[0] === argv[0]);
    if (group.length > 0 && (argv[1] === undefined || argv[1] === '--help' || argv[1] === '-h')) {
      io.stdout.write(`${group.map((command) => `${command.usage}\n  ${command.summary}`).join('\n')}\n`);
      return argv[1] === undefined ? 2 : 0;
    }
    io.stderr.write(`nightshift: unknown command "${argv.slice(0, 2).join(' ')}"; see nightshift --help\n`);
    return 2;
  }
  const rest = argv.slice(match.words.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`Usage: ${match.usage}\n\n${match.summary}\n`);
    return 0;
  }
  try {
    return await match.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(
        `nightshift ${match.words.join(' ')}: ${(error as Error).message}\nUsage: ${match.usage}\n`,
      );
      return 2;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
