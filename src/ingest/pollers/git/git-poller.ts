import { z } from 'zod';
import { commitId, repoId, serviceId } from '../../../graph/ids.js';
import type { EntityInput } from '../../../graph/schema.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type EntityRef, type Signal } from '../../signal.js';
import { serviceDeploys, type DeployRecord } from '../deploys.js';
import {
  emptyWrites,
  finishSignals,
  polledRaw,
  type GraphWrites,
  type PollContext,
  type Poller,
  type PollResult,
} from '../poller.js';
import { commitTags, linkDeploys, type MatchableCommit } from './commit-tags.js';
import { GitReader, type GitCommit } from './git-log.js';

/** One repository to follow. */
export interface GitRepoConfig {
  /** `owner/name` as the code host names it (`shop/checkout`); with `host` it forms the graph id. */
  name: string;
  /** A local clone, mirror or bare repository. */
  path: string;
  /** Services built from this repository (`service:<name>` in the graph). */
  services: readonly string[];
  /** The code host, so ids match what webhooks write. Default `github.com`. */
  host?: string;
  /** The ref to follow. Default `HEAD`. */
  branch?: string;
  /** Run `git fetch` before reading (a clone that tracks a remote). Default false. */
  fetch?: boolean;
}

/** Options of the git poller; see `docs/ingest.md` (Pollers) for the settings they come from. */
export interface GitPollerOptions {
  repos: readonly GitRepoConfig[];
  /** Commits written to the graph (without signals) the first time a repository is seen. Default 20. */
  initialCommits?: number;
  /** Most commits read per repository per poll. Default 200. */
  maxCommits?: number;
  /** How long a commit waits for the deploy that ships it. Default 24 h. */
  linkWindowMs?: number;
  /** Most commits kept waiting per repository. Default 50. */
  maxPending?: number;
}

const pendingSchema = z.object({ sha: z.string(), at: z.number(), tags: z.array(z.string()) });
const repoStateSchema = z.object({
  head: z.string(),
  at: z.number(),
  pending: z.array(pendingSchema),
});
const stateSchema = z.object({ v: z.literal(1), repos: z.record(z.string(), repoStateSchema) });

/** The git poller's state: per repository, the last head read and the commits not yet linked to a deploy. */
export type GitPollState = z.infer<typeof stateSchema>;
type RepoState = z.infer<typeof repoStateSchema>;
type PendingCommit = z.infer<typeof pendingSchema>;

const SOURCE = 'git';

function commitEntity(repo: GitRepoConfig, host: string, commit: GitCommit): EntityInput {
  return {
    id: commitId(host, repo.name, commit.sha),
    kind: 'Commit',
    name: commit.sha.slice(0, 12),
    source: SOURCE,
    observedAt: commit.at,
    properties: {
      sha: commit.sha,
      repo: repo.name,
      message: clip(commit.subject, 1000, '(no message)'),
      author: clip(commit.author, 200, 'unknown'),
      authorEmail: clip(commit.authorEmail, 200, 'unknown'),
      committedAt: commit.at,
      parents: commit.parents,
      files: commit.files.slice(0, 100),
    },
  };
}

function commitSignal(
  repo: GitRepoConfig,
  host: string,
  commit: GitCommit,
  links: readonly string[],
  receivedAt: number,
): Signal {
  const fingerprint = `git/${host}/${repo.name}@${commit.sha}`;
  const entities: EntityRef[] = [
    { kind: 'Repo', id: repoId(host, repo.name), name: repo.name },
    { kind: 'Commit', id: commitId(host, repo.name, commit.sha), name: commit.sha.slice(0, 12) },
    ...repo.services.map((service): EntityRef => ({
      kind: 'Service',
      id: serviceId(service),
      name: service,
    })),
  ];
  return {
    v: 1,
    id: signalId(SOURCE, fingerprint, 'change', commit.sha),
    source: SOURCE,
    kind: 'change',
    fingerprint,
    severity: 'info',
    entities: entities.slice(0, 64),
    observedAt: commit.at,
    receivedAt,
    summary: clip(
      `${repo.name}: ${commit.subject} (${commit.sha.slice(0, 7)} by ${commit.author})`,
      MAX_SUMMARY_LENGTH,
      `${repo.name}: commit ${commit.sha.slice(0, 7)}`,
    ),
    attributes: {
      repo: repo.name,
      sha: commit.sha,
      parents: commit.parents,
      author: commit.author,
      message: clip(`${commit.subject}\n\n${commit.body}`, 4000, ''),
      files: commit.files.slice(0, 50),
      deploys: [...links],
    },
    raw: polledRaw('git', { repo: repo.name, sha: commit.sha }),
  };
}

/** Reads one repository; the part of a poll that touches git. */
async function readRepo(
  repo: GitRepoConfig,
  previous: RepoState | undefined,
  options: Required<Omit<GitPollerOptions, 'repos'>>,
  context: PollContext,
): Promise<{ head: string; commits: GitCommit[]; baseline: boolean } | undefined> {
  const reader = new GitReader(repo.path, context.signal);
  if (repo.fetch) await reader.fetch();
  const head = await reader.resolve(repo.branch ?? 'HEAD');
  if (!head) return undefined;
  if (!previous)
    return { head, commits: await reader.log(head, { max: options.initialCommits }), baseline: true };
  if (previous.head === head) return { head, commits: [], baseline: false };
  if (await reader.resolve(previous.head)) {
    return {
      head,
      commits: await reader.log(head, { since: previous.head, max: options.maxCommits }),
      baseline: false,
    };
  }
  // The old head is gone (a force push or a re-clone): read by date instead.
  context.logger.warn({ repo: repo.name }, 'last seen commit is gone; reading commits by date');
  const commits = await reader.log(head, { after: previous.at, max: options.maxCommits });
  return { head, commits: commits.filter((commit) => commit.at >= previous.at), baseline: false };
}

/**
 * Follows local git repositories: commits since the last head seen become `Commit` entities
 * (`PART_OF` their `Repo`, which is `PART_OF` each mapped Service) and one `change` signal each;
 * a commit is linked `INTRODUCED` → `Deploy` when a deploy of a mapped service names its sha or a
 * release tag it carries (see `commit-tags.ts`). Commits not yet deployed wait in the state (up to
 * `linkWindowMs`), so a deploy recorded after the commit was read is still linked. The first poll
 * of a repository writes its recent history to the graph without signals.
 */
export function gitPoller(options: GitPollerOptions): Poller<GitPollState> {
  const settings = {
    initialCommits: options.initialCommits ?? 20,
    maxCommits: options.maxCommits ?? 200,
    linkWindowMs: options.linkWindowMs ?? 86_400_000,
    maxPending: options.maxPending ?? 50,
  };
  const initialState = (): GitPollState => ({ v: 1, repos: {} });
  return {
    name: 'git',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<GitPollState>> {
      const now = context.clock.now();
      const writes: GraphWrites = emptyWrites();
      const signals: Signal[] = [];
      // Repositories no longer configured are dropped from the state.
      const next: GitPollState = { v: 1, repos: {} };
      for (const repo of options.repos) {
        const host = (repo.host ?? 'github.com').toLowerCase();
        const previous = state.repos[repo.name];
        const read = await readRepo(repo, previous, settings, context);
        if (!read) {
          if (previous) next.repos[repo.name] = previous;
          continue;
        }
        const repoKey = repoId(host, repo.name);
        writes.entities.push({
          id: repoKey,
          kind: 'Repo',
          name: repo.name,
          source: SOURCE,
          properties: { host },
        });
        for (const service of repo.services) {
          writes.entities.push({ id: serviceId(service), kind: 'Service', name: service, source: SOURCE });
          writes.relationships.push({
            kind: 'PART_OF',
            from: repoKey,
            to: serviceId(service),
            source: SOURCE,
          });
        }
        const fresh: PendingCommit[] = read.commits.map((commit) => ({
          sha: commit.sha,
          at: commit.at,
          tags: commitTags(`${commit.subject}\n${commit.body}`, commit.added),
        }));
        for (const commit of read.commits) {
          const entity = commitEntity(repo, host, commit);
          writes.entities.push(entity);
          writes.relationships.push({
            kind: 'PART_OF',
            from: entity.id,
            to: repoKey,
            source: SOURCE,
            observedAt: commit.at,
          });
        }

        const waiting = [
          ...fresh,
          ...(previous?.pending ?? []).filter((commit) => commit.at >= now - settings.linkWindowMs),
        ];
        const linked = new Map<string, string[]>();
        if (waiting.length > 0) {
          const since = Math.min(...waiting.map((commit) => commit.at)) - 10 * 60_000;
          const deploys: DeployRecord[] = [];
          for (const service of repo.services)
            deploys.push(...(await serviceDeploys(context.graph, service, since)));
          const matchable: MatchableCommit[] = waiting;
          for (const [deploy, link] of linkDeploys(
            matchable,
            deploys.filter((deploy) => deploy.isEntity),
          )) {
            writes.relationships.push({
              kind: 'INTRODUCED',
              from: commitId(host, repo.name, link.sha),
              to: deploy,
              source: SOURCE,
              properties: { matchedBy: link.by },
            });
            linked.set(link.sha, [...(linked.get(link.sha) ?? []), deploy]);
          }
        }
        if (!read.baseline) {
          for (const commit of read.commits)
            signals.push(commitSignal(repo, host, commit, linked.get(commit.sha) ?? [], now));
        }
        const newest = read.commits[0];
        next.repos[repo.name] = {
          head: read.head,
          at: newest?.at ?? previous?.at ?? 0,
          pending: waiting
            .filter((commit) => !linked.has(commit.sha))
            .filter((commit, index, all) => all.findIndex((other) => other.sha === commit.sha) === index)
            .slice(0, settings.maxPending),
        };
      }
      return { signals: finishSignals(signals), graphWrites: writes, nextState: next };
    },
  };
}
