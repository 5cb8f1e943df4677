import { z } from 'zod';
import { commitId, pullRequestId, repoId } from '../../../graph/ids.js';
import {
  checkedSignals,
  invalid,
  invalidFromZod,
  parseTime,
  type ParseContext,
  type ParseResult,
  type WebhookHeaders,
} from '../../parse.js';
import {
  clip,
  MAX_SUMMARY_LENGTH,
  signalId,
  type EntityRef,
  type Severity,
  type Signal,
} from '../../signal.js';

/** The GitHub events turned into `change` signals; any other event is acknowledged and ignored. */
export const GITHUB_EVENTS = [
  'push',
  'deployment',
  'deployment_status',
  'workflow_run',
  'pull_request',
] as const;

const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a commit sha (hex)');
const time = z.string().refine((value) => parseTime(value) !== undefined, 'must be an ISO 8601 time');
const login = z.object({ login: z.string().optional(), name: z.string().optional() }).nullish();

const repositorySchema = z.object(
  {
    full_name: z
      .string({ error: 'is required: owner/name' })
      .regex(/^[^/\s]{1,100}\/[^/\s]{1,100}$/, 'must be owner/name'),
    html_url: z.string().optional(),
    default_branch: z.string().optional(),
    pushed_at: z.union([z.number(), z.string()]).nullish(),
  },
  { error: 'is required: the repository object' },
);

const pushSchema = z.object(
  {
    ref: z.string({ error: 'is required, e.g. refs/heads/main' }).min(1).max(255),
    before: sha,
    after: sha,
    created: z.boolean().optional(),
    deleted: z.boolean().optional(),
    forced: z.boolean().optional(),
    compare: z.string().optional(),
    pusher: login,
    commits: z
      .array(
        z.object({
          id: sha,
          message: z.string().optional(),
          timestamp: z.string().optional(),
          author: z.object({ name: z.string().optional(), username: z.string().optional() }).optional(),
        }),
      )
      .nullish(),
    head_commit: z
      .object({ id: sha, message: z.string().optional(), timestamp: z.string().optional() })
      .nullish(),
    repository: repositorySchema,
  },
  { error: 'must be a JSON object (a GitHub push event)' },
);

const deploymentSchema = z.object({
  id: z.number({ error: 'is required: the deployment id' }).int(),
  sha,
  ref: z.string().optional(),
  task: z.string().optional(),
  environment: z.string().optional(),
  description: z.string().nullish(),
  created_at: time.optional(),
  creator: login,
});

const deploymentEventSchema = z.object(
  {
    action: z.string().optional(),
    deployment: deploymentSchema,
    repository: repositorySchema,
  },
  { error: 'must be a JSON object (a GitHub deployment event)' },
);

const deploymentStatusEventSchema = z.object(
  {
    action: z.string().optional(),
    deployment_status: z.object({
      id: z.number({ error: 'is required: the status id' }).int(),
      state: z.string({ error: 'is required, e.g. success' }).min(1).max(64),
      environment: z.string().optional(),
      description: z.string().nullish(),
      target_url: z.string().nullish(),
      log_url: z.string().nullish(),
      created_at: time.optional(),
      creator: login,
    }),
    deployment: deploymentSchema,
    repository: repositorySchema,
  },
  { error: 'must be a JSON object (a GitHub deployment_status event)' },
);

const workflowRunEventSchema = z.object(
  {
    action: z.string({ error: 'is required, e.g. completed' }),
    workflow: z.object({ name: z.string().optional() }).nullish(),
    workflow_run: z.object({
      id: z.number({ error: 'is required: the run id' }).int(),
      name: z.string().nullish(),
      display_title: z.string().nullish(),
      run_number: z.number().int().optional(),
      run_attempt: z.number().int().optional(),
      event: z.string().optional(),
      status: z.string().nullish(),
      conclusion: z.string().nullish(),
      head_branch: z.string().nullish(),
      head_sha: sha,
      html_url: z.string().optional(),
      path: z.string().optional(),
      updated_at: time.optional(),
    }),
    repository: repositorySchema,
  },
  { error: 'must be a JSON object (a GitHub workflow_run event)' },
);

const pullRequestEventSchema = z.object(
  {
    action: z.string({ error: 'is required, e.g. closed' }),
    number: z.number().int().optional(),
    pull_request: z.object({
      number: z.number({ error: 'is required: the pull request number' }).int().positive(),
      title: z.string().optional(),
      html_url: z.string().optional(),
      merged: z.boolean().nullish(),
      merged_at: z.string().nullish(),
      merge_commit_sha: sha.nullish(),
      merged_by: login,
      user: login,
      base: z.object({ ref: z.string(), sha: sha.optional() }).optional(),
      head: z.object({ ref: z.string(), sha: sha.optional() }).optional(),
      labels: z.array(z.object({ name: z.string() })).optional(),
    }),
    repository: repositorySchema,
  },
  { error: 'must be a JSON object (a GitHub pull_request event)' },
);

type Repository = z.infer<typeof repositorySchema>;

function hostOf(repository: Repository): string {
  try {
    if (repository.html_url) return new URL(repository.html_url).host || 'github.com';
  } catch {
    // Not a URL: fall back to github.com.
  }
  return 'github.com';
}

function firstLine(text: string | undefined | null, max = 200): string {
  return clip((text ?? '').split('\n', 1)[0], max, '');
}

const ZERO_SHA = /^0+$/;

function refs(
  host: string,
  fullName: string,
  commits: ReadonlyArray<string | null | undefined>,
): EntityRef[] {
  const result: EntityRef[] = [{ kind: 'Repo', id: repoId(host, fullName), name: fullName }];
  const seen = new Set<string>();
  for (const commit of commits) {
    if (!commit || ZERO_SHA.test(commit) || seen.has(commit.toLowerCase()) || result.length >= 50) continue;
    seen.add(commit.toLowerCase());
    result.push({
      kind: 'Commit',
      id: commitId(host, fullName, commit),
      name: commit.slice(0, 12).toLowerCase(),
    });
  }
  return result;
}

function epochFrom(value: number | string | null | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return Math.trunc(value < 1e11 ? value * 1000 : value);
  }
  return typeof value === 'string' ? parseTime(value) : undefined;
}

interface ChangeParts {
  fingerprint: string;
  severity?: Severity;
  entities: EntityRef[];
  observedAt: number | undefined;
  summary: string;
  attributes: Signal['attributes'];
}

function changeSignal(
  parts: ChangeParts,
  event: string,
  context: ParseContext,
  deliveryId: string | undefined,
): Signal {
  return {
    v: 1,
    id: signalId('github', parts.fingerprint, 'change', event),
    source: 'github',
    kind: 'change',
    fingerprint: parts.fingerprint,
    severity: parts.severity ?? 'info',
    entities: parts.entities,
    observedAt: parts.observedAt ?? context.receivedAt,
    receivedAt: context.receivedAt,
    summary: clip(parts.summary, MAX_SUMMARY_LENGTH, `GitHub ${event}`),
    attributes: { event, ...parts.attributes },
    raw: {
      source: 'webhook/github',
      digest: context.digest,
      ...(deliveryId && deliveryId.length <= 256 ? { deliveryId } : {}),
    },
  };
}

function parsePush(body: unknown): ChangeParts | { error: z.ZodError } {
  const parsed = pushSchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error };
  const push = parsed.data;
  const fullName = push.repository.full_name;
  const host = hostOf(push.repository);
  const commits = push.commits ?? [];
  const branch = push.ref.replace(/^refs\/(heads|tags)\//, '');
  const isTag = push.ref.startsWith('refs/tags/');
  const head = push.head_commit ?? undefined;
  const short = push.after.slice(0, 7);
  const summary = push.deleted
    ? `${isTag ? 'tag' : 'branch'} ${branch} of ${fullName} deleted`
    : `push to ${branch} of ${fullName}: ${commits.length} commit${commits.length === 1 ? '' : 's'}, head ${short}${head?.message ? ` ${firstLine(head.message)}` : ''}`;
  return {
    fingerprint: `push/${fullName}/${push.ref}@${push.after.toLowerCase()}`,
    entities: refs(host, fullName, [push.after, ...commits.map((commit) => commit.id)]),
    observedAt: epochFrom(push.repository.pushed_at) ?? parseTime(head?.timestamp),
    summary,
    attributes: {
      repository: fullName,
      ref: push.ref,
      before: push.before,
      after: push.after,
      created: push.created ?? false,
      deleted: push.deleted ?? false,
      forced: push.forced ?? false,
      commitCount: commits.length,
      commits: commits.slice(0, 20).map((commit) => ({
        id: commit.id,
        message: firstLine(commit.message),
        author: commit.author?.username ?? commit.author?.name ?? null,
      })),
      ...(push.compare ? { compare: push.compare } : {}),
      ...(push.pusher?.name ? { pusher: push.pusher.name } : {}),
    },
  };
}

function parseDeployment(body: unknown): ChangeParts | { error: z.ZodError } {
  const parsed = deploymentEventSchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error };
  const { deployment, repository } = parsed.data;
  const fullName = repository.full_name;
  const environment = deployment.environment ?? 'an environment';
  return {
    fingerprint: `deployment/${fullName}/${deployment.id}`,
    entities: refs(hostOf(repository), fullName, [deployment.sha]),
    observedAt: parseTime(deployment.created_at),
    summary: `deployment ${deployment.id} of ${fullName}@${deployment.sha.slice(0, 7)}${deployment.ref ? ` (${deployment.ref})` : ''} to ${environment} ${parsed.data.action ?? 'created'}`,
    attributes: {
      repository: fullName,
      deploymentId: deployment.id,
      sha: deployment.sha,
      ...(deployment.ref ? { ref: deployment.ref } : {}),
      ...(deployment.task ? { task: deployment.task } : {}),
      ...(deployment.environment ? { environment: deployment.environment } : {}),
      ...(deployment.description ? { description: deployment.description } : {}),
      ...(deployment.creator?.login ? { creator: deployment.creator.login } : {}),
    },
  };
}

const FAILED_STATES = new Set(['failure', 'error', 'timed_out', 'startup_failure', 'action_required']);

function parseDeploymentStatus(body: unknown): ChangeParts | { error: z.ZodError } {
  const parsed = deploymentStatusEventSchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error };
  const { deployment, deployment_status: status, repository } = parsed.data;
  const fullName = repository.full_name;
  const environment = status.environment ?? deployment.environment ?? 'an environment';
  return {
    fingerprint: `deployment/${fullName}/${deployment.id}/status/${status.id}`,
    severity: FAILED_STATES.has(status.state) ? 'warning' : 'info',
    entities: refs(hostOf(repository), fullName, [deployment.sha]),
    observedAt: parseTime(status.created_at),
    summary: `deployment ${deployment.id} of ${fullName}@${deployment.sha.slice(0, 7)} to ${environment}: ${status.state}`,
    attributes: {
      repository: fullName,
      deploymentId: deployment.id,
      statusId: status.id,
      state: status.state,
      sha: deployment.sha,
      environment,
      ...(deployment.ref ? { ref: deployment.ref } : {}),
      ...(status.description ? { description: status.description } : {}),
      ...(status.target_url || status.log_url ? { url: status.log_url ?? status.target_url ?? '' } : {}),
    },
  };
}

function parseWorkflowRun(body: unknown): ChangeParts | { error: z.ZodError } | null {
  const parsed = workflowRunEventSchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error };
  if (parsed.data.action !== 'completed') return null;
  const { workflow_run: run, repository } = parsed.data;
  const fullName = repository.full_name;
  const name = run.name?.trim() || parsed.data.workflow?.name?.trim() || run.path || 'workflow';
  const conclusion = run.conclusion ?? run.status ?? 'completed';
  return {
    fingerprint: `workflow-run/${fullName}/${run.id}/${run.run_attempt ?? 1}`,
    severity: FAILED_STATES.has(conclusion) ? 'warning' : 'info',
    entities: refs(hostOf(repository), fullName, [run.head_sha]),
    observedAt: parseTime(run.updated_at),
    summary: `workflow ${name} run ${run.run_number ?? run.id} of ${fullName} ${conclusion}${run.head_branch ? ` on ${run.head_branch}` : ''} (${run.head_sha.slice(0, 7)})`,
    attributes: {
      repository: fullName,
      runId: run.id,
      workflow: name,
      conclusion,
      headSha: run.head_sha,
      ...(run.run_number !== undefined ? { runNumber: run.run_number } : {}),
      ...(run.run_attempt !== undefined ? { runAttempt: run.run_attempt } : {}),
      ...(run.head_branch ? { branch: run.head_branch } : {}),
      ...(run.event ? { trigger: run.event } : {}),
      ...(run.display_title ? { title: firstLine(run.display_title) } : {}),
      ...(run.html_url ? { htmlUrl: run.html_url } : {}),
    },
  };
}

function parsePullRequest(body: unknown): ChangeParts | { error: z.ZodError } | null {
  const parsed = pullRequestEventSchema.safeParse(body);
  if (!parsed.success) return { error: parsed.error };
  const { pull_request: pull, repository } = parsed.data;
  if (parsed.data.action !== 'closed' || pull.merged !== true) return null;
  const fullName = repository.full_name;
  const host = hostOf(repository);
  const title = firstLine(pull.title, 300) || `pull request #${pull.number}`;
  const entities = refs(host, fullName, [pull.merge_commit_sha]);
  entities.splice(1, 0, {
    kind: 'PullRequest',
    id: pullRequestId(host, fullName, pull.number),
    name: clip(`#${pull.number} ${title}`, 512, `#${pull.number}`),
  });
  return {
    fingerprint: `pull-request/${fullName}/${pull.number}`,
    entities,
    observedAt: parseTime(pull.merged_at),
    summary: `pull request #${pull.number} merged into ${pull.base?.ref ?? 'the default branch'} of ${fullName}: ${title}`,
    attributes: {
      repository: fullName,
      number: pull.number,
      title,
      ...(pull.merge_commit_sha ? { mergeCommitSha: pull.merge_commit_sha } : {}),
      ...(pull.base?.ref ? { base: pull.base.ref } : {}),
      ...(pull.head?.ref ? { head: pull.head.ref } : {}),
      ...(pull.head?.sha ? { headSha: pull.head.sha } : {}),
      ...(pull.merged_by?.login ? { mergedBy: pull.merged_by.login } : {}),
      ...(pull.user?.login ? { author: pull.user.login } : {}),
      ...(pull.html_url ? { htmlUrl: pull.html_url } : {}),
      ...(pull.labels?.length ? { labels: pull.labels.map((label) => label.name) } : {}),
    },
  };
}

const PARSERS: Readonly<
  Record<(typeof GITHUB_EVENTS)[number], (body: unknown) => ChangeParts | { error: z.ZodError } | null>
> = {
  push: parsePush,
  deployment: parseDeployment,
  deployment_status: parseDeploymentStatus,
  workflow_run: parseWorkflowRun,
  pull_request: parsePullRequest,
};

/**
 * Turns a GitHub webhook delivery into at most one `change` signal, by the `X-GitHub-Event`
 * header: push, deployment, deployment_status, completed workflow_run, and pull_request closed
 * with `merged: true`. Other events (ping, issues…) and other actions give no signal. Entities
 * are the repository, the commits and the pull request, with graph ids. Pure; never throws.
 */
export function parseGithub(body: unknown, headers: WebhookHeaders, context: ParseContext): ParseResult {
  const event = headers['x-github-event']?.trim();
  if (!event) {
    return invalid('not a GitHub delivery', [{ path: 'X-GitHub-Event', message: 'header is required' }]);
  }
  if (!(GITHUB_EVENTS as readonly string[]).includes(event)) return { ok: [] };
  const parts = PARSERS[event as (typeof GITHUB_EVENTS)[number]](body);
  if (parts === null) return { ok: [] };
  if ('error' in parts) return invalidFromZod(`not a GitHub ${event} event`, parts.error);
  return checkedSignals(`the GitHub ${event} event does not form a valid signal`, [
    changeSignal(parts, event, context, headers['x-github-delivery']),
  ]);
}
