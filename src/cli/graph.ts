import { parseArgs } from 'node:util';
import type { Entity, PropertyValue } from '../graph/schema.js';
import type { GraphStats, GraphStore, ImpactDirection, PathStep, Reached } from '../graph/store.js';
import { ValidationError } from '../shared/errors.js';
import { UsageError, type CliIo, type Command } from './io.js';

const USAGE = `usage:
  nightshift graph stats [--json]
  nightshift graph show <id> [--depth N] [--json]
  nightshift graph blast-radius <id> [--direction upstream|downstream|both] [--depth N] [--json]`;

const DIRECTIONS: readonly ImpactDirection[] = ['upstream', 'downstream', 'both'];

/**
 * `nightshift graph …`: reads the knowledge graph. `stats` counts what it holds; `show` prints an
 * entity and its neighbours (`--depth`, default 1) as a tree; `blast-radius` prints what impact
 * reaches from an entity (`--direction`, default downstream; `--depth`, default 3) as a tree.
 * `--json` prints the store's own result objects instead. Exit codes: 0 ok, 1 unknown entity,
 * 2 bad usage. The store comes from `openStore` and is closed before the command returns.
 */
export function graphCommand(openStore: () => Promise<GraphStore>): Command {
  return async (argv: string[], io: CliIo): Promise<number> => {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      if (sub === undefined) throw new UsageError(USAGE);
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const parsed = parse(sub, rest);
    const store = await openStore();
    try {
      return await run(store, sub, parsed, io);
    } catch (error) {
      if (error instanceof ValidationError) {
        for (const issue of error.issues)
          io.stderr.write(`${issue.path ? `${issue.path}: ` : ''}${issue.message}\n`);
        return 2;
      }
      throw error;
    } finally {
      await store.close();
    }
  };
}

interface Parsed {
  id: string | undefined;
  json: boolean;
  depth: number | undefined;
  direction: ImpactDirection;
}

function parse(sub: string, argv: string[]): Parsed {
  if (!['stats', 'show', 'blast-radius'].includes(sub))
    throw new UsageError(`unknown graph command "${sub}"\n${USAGE}`);
  let values: { json?: boolean; depth?: string; direction?: string };
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        ...(sub === 'stats' ? {} : { depth: { type: 'string' } }),
        ...(sub === 'blast-radius' ? { direction: { type: 'string' } } : {}),
      },
    });
    values = parsed.values as typeof values;
    positionals = parsed.positionals;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  const expected = sub === 'stats' ? 0 : 1;
  if (positionals.length !== expected) {
    throw new UsageError(
      expected === 0
        ? `graph stats takes no arguments\n${USAGE}`
        : `graph ${sub} takes one entity id\n${USAGE}`,
    );
  }
  let depth: number | undefined;
  if (values.depth !== undefined) {
    depth = Number(values.depth);
    if (!/^\d+$/.test(values.depth) || depth < 1 || depth > 6)
      throw new UsageError('--depth must be a whole number from 1 to 6');
  }
  const direction = (values.direction ?? 'downstream') as ImpactDirection;
  if (!DIRECTIONS.includes(direction))
    throw new UsageError(`--direction must be one of ${DIRECTIONS.join(', ')}`);
  return { id: positionals[0], json: values.json === true, depth, direction };
}

async function run(store: GraphStore, sub: string, parsed: Parsed, io: CliIo): Promise<number> {
  if (sub === 'stats') {
    const stats = await store.stats();
    io.stdout.write(parsed.json ? `${JSON.stringify(stats, null, 2)}\n` : formatStats(stats));
    return 0;
  }
  const id = parsed.id as string;
  const root = await store.get(id);
  if (!root) {
    io.stderr.write(`no entity "${id}" in the graph\n`);
    return 1;
  }
  if (sub === 'show') {
    const depth = parsed.depth ?? 1;
    const neighbors = await store.neighbors(id, { depth });
    if (parsed.json) io.stdout.write(`${JSON.stringify({ entity: root, neighbors }, null, 2)}\n`);
    else io.stdout.write(`${describeEntity(root, true)}\n${formatTree(root.id, neighbors)}`);
    return 0;
  }
  const maxDepth = parsed.depth ?? 3;
  const reached = await store.blastRadius(id, { direction: parsed.direction, maxDepth });
  if (parsed.json) {
    io.stdout.write(`${JSON.stringify({ id, direction: parsed.direction, maxDepth, reached }, null, 2)}\n`);
  } else {
    io.stdout.write(
      `blast radius of ${describeEntity(root, false)} (${parsed.direction}, depth ${maxDepth}): ` +
        `${reached.length} ${reached.length === 1 ? 'entity' : 'entities'}\n${formatTree(root.id, reached)}`,
    );
  }
  return 0;
}

function formatStats(stats: GraphStats): string {
  const lines = [`backend        ${stats.backend} (graph schema v${stats.schemaVersion})`];
  const section = (title: string, total: number, byKind: Partial<Record<string, number>>): void => {
    lines.push(`${title.padEnd(15)}${total}`);
    const entries = Object.entries(byKind).sort(([a], [b]) => a.localeCompare(b));
    for (const [kind, count] of entries) lines.push(`  ${kind.padEnd(20)}${count ?? 0}`);
  };
  section('entities', stats.entities, stats.entitiesByKind);
  section('relationships', stats.relationships, stats.relationshipsByKind);
  lines.push(`${'events'.padEnd(15)}${stats.events}`);
  return `${lines.join('\n')}\n`;
}

function formatValue(value: PropertyValue): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

function describeEntity(entity: Entity, detailed: boolean): string {
  const head = `${entity.kind} ${entity.id}${entity.name ? ` "${entity.name}"` : ''}`;
  if (!detailed) return head;
  const { provenance } = entity;
  const lines = [
    head,
    `  source ${provenance.source}, confidence ${provenance.confidence}, ` +
      `first seen ${new Date(provenance.firstSeen).toISOString()}, last seen ${new Date(provenance.lastSeen).toISOString()}`,
  ];
  const properties = Object.entries(entity.properties).sort(([a], [b]) => a.localeCompare(b));
  if (properties.length > 0) {
    lines.push(`  ${properties.map(([key, value]) => `${key}=${formatValue(value)}`).join(' ')}`);
  }
  return lines.join('\n');
}

function edgeLabel(step: PathStep, parent: string): string {
  const inferred = step.confidence < 1 ? ` (${step.confidence})` : '';
  return step.from === parent ? `─${step.kind}→${inferred}` : `←${step.kind}─${inferred}`;
}

/** Renders reached entities as a tree under `rootId`, each under the entity before it on its path. */
function formatTree(rootId: string, reached: readonly Reached[]): string {
  const children = new Map<string, Reached[]>();
  for (const item of reached) {
    const last = item.path[item.path.length - 1];
    if (!last) continue;
    const parent = last.from === item.entity.id ? last.to : last.from;
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(item);
  }
  const lines: string[] = [];
  const walk = (id: string, prefix: string): void => {
    const list = children.get(id) ?? [];
    list.forEach((item, index) => {
      const lastChild = index === list.length - 1;
      const step = item.path[item.path.length - 1] as PathStep;
      lines.push(
        `${prefix}${lastChild ? '└─' : '├─'}${edgeLabel(step, id)} ${describeEntity(item.entity, false)}`,
      );
      walk(item.entity.id, `${prefix}${lastChild ? '   ' : '│  '}`);
    });
  };
  walk(rootId, '');
  if (lines.length === 0) lines.push('(nothing)');
  return `${lines.join('\n')}\n`;
}
