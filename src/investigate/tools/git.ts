import { simpleGit } from 'simple-git';
import { z } from 'zod';
import { describeError } from '../../shared/errors.js';
import { defineTool, type ReadOnlyTool, type ToolResult } from './tool.js';

/** Options of the git tools. */
export interface GitToolsOptions {
  /** The local clone of a repository (`owner/name`), or undefined when there is none. */
  repoPath(repo: string): string | undefined;
}

export interface GitLogOutput {
  repo: string;
  commits: Array<{ sha: string; author: string; date: string; message: string }>;
}

export interface GitDiffOutput {
  repo: string;
  from: string;
  to: string;
  files: Array<{ file: string; insertions: number; deletions: number }>;
  /** The start of the patch, cut to the output budget. */
  patch: string;
}

const repo = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/, 'owner/name');
const ref = z
  .string()
  .min(4)
  .max(80)
  .regex(/^[A-Za-z0-9._/-]+$/, 'a commit sha, tag or branch')
  .refine((value) => !value.startsWith('-'), 'must not start with -');

/** Commit log and diff between two deploys, from local clones (only `log` and `diff` are run). */
export function createGitTools(options: GitToolsOptions): ReadOnlyTool[] {
  const log = defineTool({
    name: 'git_log',
    description:
      'Commits of a repository between two refs (exclusive from, inclusive to), or the latest ones.',
    input: z.strictObject({
      repo,
      from: ref.optional(),
      to: ref.default('HEAD'),
      maxCount: z.number().int().min(1).max(50).default(10),
    }),
    async run(input): Promise<ToolResult<GitLogOutput>> {
      const path = options.repoPath(input.repo);
      if (!path) return { status: 'no_data', summary: `no local clone of ${input.repo}` };
      try {
        const git = simpleGit({ baseDir: path });
        const result = await git.log({
          maxCount: input.maxCount,
          ...(input.from ? { from: input.from, to: input.to } : {}),
        });
        const commits = result.all.map((commit) => ({
          sha: commit.hash,
          author: commit.author_name,
          date: commit.date,
          message: commit.message.slice(0, 200),
        }));
        if (commits.length === 0)
          return {
            status: 'no_data',
            summary: `no commits in ${input.repo}`,
            data: { repo: input.repo, commits },
          };
        return {
          status: 'ok',
          summary: `${commits.length} commits in ${input.repo}: ${commits
            .slice(0, 3)
            .map((c) => `${c.sha.slice(0, 8)} ${c.message}`)
            .join('; ')}`,
          data: { repo: input.repo, commits },
        };
      } catch (error) {
        return { status: 'error', summary: `git log: ${describeError(error)}` };
      }
    },
  });

  const diff = defineTool({
    name: 'git_diff',
    description: 'Files changed and the start of the patch between two deploys of a repository.',
    input: z.strictObject({ repo, from: ref, to: ref }),
    outputBudgetChars: 6_000,
    async run(input): Promise<ToolResult<GitDiffOutput>> {
      const path = options.repoPath(input.repo);
      if (!path) return { status: 'no_data', summary: `no local clone of ${input.repo}` };
      try {
        const git = simpleGit({ baseDir: path });
        const range = `${input.from}..${input.to}`;
        const summary = await git.diffSummary([range]);
        const patch = await git.diff([range]);
        const files = summary.files.map((file) => ({
          file: file.file,
          insertions: 'insertions' in file ? file.insertions : 0,
          deletions: 'deletions' in file ? file.deletions : 0,
        }));
        return {
          status: files.length ? 'ok' : 'no_data',
          summary: `${files.length} files changed in ${input.repo} ${range}: ${files
            .slice(0, 5)
            .map((f) => f.file)
            .join(', ')}`,
          data: { repo: input.repo, from: input.from, to: input.to, files, patch: patch.slice(0, 3_000) },
        };
      } catch (error) {
        return { status: 'error', summary: `git diff: ${describeError(error)}` };
      }
    },
  });

  return [log, diff] as ReadOnlyTool[];
}
