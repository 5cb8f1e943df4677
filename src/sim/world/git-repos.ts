import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError } from '../../shared/errors.js';

/** One commit to write. */
export interface CommitSpec {
  message: string;
  author: string;
  email: string;
  /** Sim time of the commit (author and committer date). */
  at: number;
  /** Files to write, path → content. */
  files: Record<string, string>;
}

/** A commit that was written. */
export interface CommitResult {
  sha: string;
  previousSha?: string;
  files: string[];
}

function run(args: string[], options: { cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: options.cwd ?? '/',
          GIT_CONFIG_NOSYSTEM: '1',
          LANG: 'C',
        },
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new SystemError('git_failed', `git ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`, {
              cause: error,
              retryable: false,
            }),
          );
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

function commitStream(ref: string, commit: CommitSpec, parent: boolean): string {
  const seconds = Math.floor(commit.at / 1000);
  const who = `${commit.author} <${commit.email}> ${seconds} +0000`;
  let stream = `commit ${ref}\nauthor ${who}\ncommitter ${who}\n${data(commit.message)}`;
  if (parent) stream += `from ${ref}^0\n`;
  for (const [path, content] of Object.entries(commit.files))
    stream += `M 100644 inline ${path}\n${data(content)}`;
  return stream;
}

/**
 * Real local git repositories, one bare repository per service under `root`, written with
 * `git fast-import` (argument arrays, never a shell) so commits carry sim-time dates. Writes to
 * one repository are serialized.
 */
export class GitRepos {
  readonly root: string;
  readonly #heads = new Map<string, string>();
  readonly #files = new Map<string, Map<string, string>>();
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(root: string) {
    this.root = root;
  }

  /** The path of a repository, e.g. `<root>/shop/checkout.git`. */
  path(repo: string): string {
    return join(this.root, `${repo}.git`);
  }

  /** The content of a file on main as the sim last wrote it. */
  file(repo: string, path: string): string | undefined {
    return this.#files.get(repo)?.get(path);
  }

  #remember(repo: string, files: Record<string, string>): void {
    const known = this.#files.get(repo) ?? new Map<string, string>();
    for (const [path, content] of Object.entries(files)) known.set(path, content);
    this.#files.set(repo, known);
  }

  /** The head commit of a repository, if it has one. */
  head(repo: string): string | undefined {
    return this.#heads.get(repo);
  }

  #serial<T>(repo: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(repo) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#queues.set(
      repo,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Creates the repository with its history (commits oldest first); returns the head sha. */
  create(repo: string, history: readonly CommitSpec[]): Promise<string> {
    return this.#serial(repo, async () => {
      const path = this.path(repo);
      await mkdir(path, { recursive: true });
      await run(['init', '--quiet', '--bare', '--initial-branch=main', path]);
      for (const commit of history) this.#remember(repo, commit.files);
      const stream = history.map((commit) => commitStream('refs/heads/main', commit, false)).join('');
      await run(['fast-import', '--quiet', '--done'], { cwd: path, input: `${stream}done\n` });
      const sha = (await run(['rev-parse', 'refs/heads/main'], { cwd: path })).trim();
      this.#heads.set(repo, sha);
      return sha;
    });
  }

  /** Adds one commit on main. */
  commit(repo: string, commit: CommitSpec): Promise<CommitResult> {
    return this.#serial(repo, async () => {
      const path = this.path(repo);
      const previousSha = this.#heads.get(repo);
      this.#remember(repo, commit.files);
      await run(['fast-import', '--quiet', '--done'], {
        cwd: path,
        input: `${commitStream('refs/heads/main', commit, previousSha !== undefined)}done\n`,
      });
      const sha = (await run(['rev-parse', 'refs/heads/main'], { cwd: path })).trim();
      this.#heads.set(repo, sha);
      return { sha, ...(previousSha ? { previousSha } : {}), files: Object.keys(commit.files) };
    });
  }

  /** Runs a read-only git command in a repository (for tests and tools); returns stdout. */
  read(repo: string, args: string[]): Promise<string> {
    return run(args, { cwd: this.path(repo) });
  }
}
