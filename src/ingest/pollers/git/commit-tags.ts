import type { DeployRecord } from '../deploys.js';

const VERSION_IN_TEXT = /(?<![\w.-])v?\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z][\w.]*)?(?![\w-]|\.\d)/g;
const TAG_ASSIGNMENT = /\b(?:tag|imageTag|image_tag|version|appVersion)\s*[:=]\s*["']?([\w][\w.+-]{0,127})/gi;
const IMAGE_REFERENCE = /\bimage\s*[:=]\s*["']?[\w./-]+:([\w][\w.+-]{0,127})/gi;

/** `v3.1.0` and `3.1.0` are the same release. */
export function normalizeTag(tag: string): string {
  const lower = tag.toLowerCase();
  return /^v\d/.test(lower) ? lower.slice(1) : lower;
}

/**
 * The release tags a commit names: versions in its message (`Release 3.1.0`, `v2.0.1`) and
 * image tags it writes (`tag: "3.1.0"`, `image: shop/checkout:3.1.0`, `version = 1.2`), normalized
 * (`v` dropped, lower case), unique, at most 20.
 */
export function commitTags(message: string, added: readonly string[]): string[] {
  const tags = new Set<string>();
  for (const match of message.matchAll(VERSION_IN_TEXT)) tags.add(normalizeTag(match[0]));
  for (const line of added) {
    for (const match of line.matchAll(TAG_ASSIGNMENT)) if (match[1]) tags.add(normalizeTag(match[1]));
    for (const match of line.matchAll(IMAGE_REFERENCE)) if (match[1]) tags.add(normalizeTag(match[1]));
  }
  tags.delete('latest');
  return [...tags].slice(0, 20);
}

/** What a commit needs for matching. */
export interface MatchableCommit {
  sha: string;
  at: number;
  tags: readonly string[];
}

/**
 * How a deploy names a commit: by sha (the deploy's `sha`, or an image tag that is a sha prefix
 * of at least 7 hex digits), else by release tag. `'sha'` and `'tag'` say which matched.
 */
export function matchKind(commit: MatchableCommit, deploy: DeployRecord): 'sha' | 'tag' | undefined {
  const sha = commit.sha.toLowerCase();
  if (deploy.sha && deploy.sha.length >= 7 && sha.startsWith(deploy.sha)) return 'sha';
  const tag = deploy.tag?.toLowerCase();
  if (!tag) return undefined;
  if (/^[0-9a-f]{7,64}$/.test(tag) && sha.startsWith(tag)) return 'sha';
  const shaSuffix = /(?:^|[-_.])g?([0-9a-f]{7,40})$/.exec(tag)?.[1];
  if (shaSuffix && sha.startsWith(shaSuffix)) return 'sha';
  return commit.tags.includes(normalizeTag(tag)) ? 'tag' : undefined;
}

/** Deploys may be recorded a little before the commit's own timestamp (clock skew between systems). */
const SKEW_MS = 10 * 60_000;

/**
 * The commit each deploy introduced: a sha match wins; else the newest commit naming the
 * deploy's tag that is not newer than the deploy. Returns deploy id → commit sha.
 */
export function linkDeploys(
  commits: readonly MatchableCommit[],
  deploys: readonly DeployRecord[],
): Map<string, { sha: string; by: 'sha' | 'tag' }> {
  const links = new Map<string, { sha: string; by: 'sha' | 'tag' }>();
  for (const deploy of deploys) {
    let best: MatchableCommit | undefined;
    for (const commit of commits) {
      const kind = matchKind(commit, deploy);
      if (kind === 'sha') {
        best = commit;
        links.set(deploy.id, { sha: commit.sha, by: 'sha' });
        break;
      }
      if (kind === 'tag' && commit.at <= deploy.at + SKEW_MS && (!best || commit.at > best.at)) best = commit;
    }
    if (best && !links.has(deploy.id)) links.set(deploy.id, { sha: best.sha, by: 'tag' });
  }
  return links;
}
