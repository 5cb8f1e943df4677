import { stableHash } from '../../../shared/ids.js';
import type { VendorDeploy } from '../source.js';

/** A deploy with everything a GitHub payload needs filled in. */
export interface GithubDeploy {
  /** owner/name */
  repo: string;
  sha: string;
  previousSha: string;
  image: string;
  message: string;
  author: string;
  authorEmail: string;
  files: readonly string[];
  environment: string;
  /** Sim time of the deploy. */
  t: number;
}

const ZERO_SHA = '0000000000000000000000000000000000000000';

function numericId(...parts: Array<string | number>): number {
  return Number.parseInt(stableHash('github', ...parts).slice(0, 8), 16);
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64');
}

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Fills a world deploy's gaps with stable values (the same deploy always gives the same payload). */
export function githubDeploy(
  deploy: VendorDeploy,
  defaults: { t: number; environment?: string; repo?: string },
): GithubDeploy {
  const t = deploy.t ?? defaults.t;
  const repo = deploy.repo ?? defaults.repo ?? `sim/${deploy.service}`;
  return {
    repo,
    sha: deploy.sha ?? stableHash('commit', repo, deploy.image, t).slice(0, 40),
    previousSha: deploy.previousSha ?? ZERO_SHA,
    image: deploy.image,
    message: deploy.message ?? `Deploy ${deploy.image}`,
    author: deploy.author ?? 'deploy-bot',
    authorEmail: deploy.authorEmail ?? `${deploy.author ?? 'deploy-bot'}@users.noreply.github.com`,
    files: deploy.files ?? [],
    environment: defaults.environment ?? 'production',
    t,
  };
}

function user(login: string): Record<string, unknown> {
  const id = numericId('user', login);
  return {
    login,
    id,
    node_id: nodeId('User', id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `https://api.github.com/users/${login}`,
    html_url: `https://github.com/${login}`,
    type: 'User',
    site_admin: false,
  };
}

/** The repository object; push payloads carry owner name/email and epoch-second dates, as GitHub's do. */
function repository(fullName: string, t: number, style: 'push' | 'api' = 'api'): Record<string, unknown> {
  const [owner = 'sim', name = fullName] = fullName.split('/');
  const id = numericId('repo', fullName);
  const api = `https://api.github.com/repos/${fullName}`;
  const pushStyle = style === 'push';
  return {
    id,
    node_id: nodeId('Repository', id),
    name,
    full_name: fullName,
    private: true,
    owner: pushStyle ? { name: owner, email: null, ...user(owner) } : user(owner),
    html_url: `https://github.com/${fullName}`,
    description: null,
    fork: false,
    url: api,
    hooks_url: `${api}/hooks`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    deployments_url: `${api}/deployments`,
    statuses_url: `${api}/statuses/{sha}`,
    pulls_url: `${api}/pulls{/number}`,
    created_at: pushStyle ? Math.floor((t - 365 * 86_400_000) / 1000) : githubTime(t - 365 * 86_400_000),
    updated_at: githubTime(t),
    pushed_at: pushStyle ? Math.floor(t / 1000) : githubTime(t),
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `https://github.com/${fullName}.git`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'TypeScript',
    has_issues: true,
    forks_count: 0,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    default_branch: 'main',
    visibility: 'private',
    topics: [],
  };
}

function commit(deploy: GithubDeploy): Record<string, unknown> {
  const author = { name: deploy.author, email: deploy.authorEmail, username: deploy.author };
  return {
    id: deploy.sha,
    tree_id: stableHash('tree', deploy.sha).slice(0, 40),
    distinct: true,
    message: deploy.message,
    timestamp: githubTime(deploy.t),
    url: `https://github.com/${deploy.repo}/commit/${deploy.sha}`,
    author,
    committer: author,
    added: [],
    removed: [],
    modified: [...deploy.files],
  };
}

/** A `push` payload for the deploy's commit on `main`, shaped like GitHub's. */
export function pushPayload(deploy: GithubDeploy): Record<string, unknown> {
  const head = commit(deploy);
  return {
    ref: 'refs/heads/main',
    before: deploy.previousSha,
    after: deploy.sha,
    repository: repository(deploy.repo, deploy.t, 'push'),
    pusher: { name: deploy.author, email: deploy.authorEmail },
    sender: user(deploy.author),
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${deploy.repo}/compare/${deploy.previousSha.slice(0, 12)}...${deploy.sha.slice(0, 12)}`,
    commits: [head],
    head_commit: head,
  };
}

function deployment(deploy: GithubDeploy): Record<string, unknown> {
  const id = numericId('deployment', deploy.repo, deploy.sha, deploy.t);
  const api = `https://api.github.com/repos/${deploy.repo}`;
  return {
    url: `${api}/deployments/${id}`,
    id,
    node_id: nodeId('Deployment', id),
    sha: deploy.sha,
    ref: 'main',
    task: 'deploy',
    payload: { image: deploy.image },
    original_environment: deploy.environment,
    environment: deploy.environment,
    description: `Deploy ${deploy.image}`,
    creator: user(deploy.author),
    created_at: githubTime(deploy.t),
    updated_at: githubTime(deploy.t),
    statuses_url: `${api}/deployments/${id}/statuses`,
    repository_url: api,
  };
}

/** A `deployment` (action `created`) payload, shaped like GitHub's. */
export function deploymentPayload(deploy: GithubDeploy): Record<string, unknown> {
  return {
    action: 'created',
    deployment: deployment(deploy),
    workflow: null,
    workflow_run: null,
    repository: repository(deploy.repo, deploy.t),
    sender: user(deploy.author),
  };
}

/** A `deployment_status` (action `created`) payload with the given state, shaped like GitHub's. */
export function deploymentStatusPayload(
  deploy: GithubDeploy,
  state: 'pending' | 'in_progress' | 'success' | 'failure' | 'error',
  atMs = deploy.t,
): Record<string, unknown> {
  const parent = deployment(deploy);
  const id = numericId('deployment_status', String(parent.id), state);
  return {
    action: 'created',
    deployment_status: {
      url: `${String(parent.url)}/statuses/${id}`,
      id,
      node_id: nodeId('DeploymentStatus', id),
      state,
      creator: user(deploy.author),
      description: `${deploy.image}: ${state}`,
      environment: deploy.environment,
      target_url: '',
      created_at: githubTime(atMs),
      updated_at: githubTime(atMs),
      deployment_url: parent.url,
      repository_url: parent.repository_url,
    },
    deployment: { ...parent, updated_at: githubTime(atMs) },
    repository: repository(deploy.repo, deploy.t),
    sender: user(deploy.author),
  };
}
