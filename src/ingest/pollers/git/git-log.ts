import { simpleGit, type SimpleGit } from 'simple-git';
import { SystemError } from '../../../shared/errors.js';

/** A commit as read from `git log`. Times are ms since the epoch (committer date). */
export interface GitCommit {
  sha: string;
  parents: string[];
  author: string;
  authorEmail: string;
  at: number;
  subject: string;
  body: string;
  files: string[];
  /** Lines the commit added (the `+` lines of its patch), at most `MAX_ADDED_LINES`. */
  added: string[];
}

/** Added lines kept per commit: enough for a values file or a manifest. */
export const MAX_ADDED_LINES = 400;
/** Files kept per commit. */
export const MAX_FILES = 200;

const RECORD = '\u001e';
const FIELD = '\u001f';
const END_OF_HEADER = '\u001d';

/** A read-only view of one local repository (a clone, a mirror or a bare repository). */
export class GitReader {
  readonly #git: SimpleGit;
  readonly #path: string;

  constructor(path: string, signal?: AbortSignal) {
    this.#path = path;
    this.#git = simpleGit({ baseDir: path, ...(signal ? { abort: signal } : {}) });
  }

  /** The sha `ref` points at, or undefined for an empty repository or an unknown ref. */
  async resolve(ref: string): Promise<string | undefined> {
    try {
      const sha = (await this.#git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
      return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
    } catch {
      return undefined;
    }
  }

  /** Fetches from the default remote (for clones that track an origin). */
  async fetch(): Promise<void> {
    await this.#run(['fetch', '--quiet', '--prune']);
  }

  /**
   * Commits reachable from `head`, newest first: those after `since` (exclusive; a sha) when
   * given, at most `max`. Merges are included; patches are read with no context lines.
   */
  async log(head: string, options: { since?: string; after?: number; max: number }): Promise<GitCommit[]> {
    const range = options.since ? `${options.since}..${head}` : head;
    const args = [
      'log',
      '--no-color',
      '--no-ext-diff',
      '--no-textconv',
      `--max-count=${options.max}`,
      `--format=${RECORD}%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%ct${FIELD}%s${FIELD}%b${END_OF_HEADER}`,
      '--patch',
      '--unified=0',
      ...(options.after !== undefined ? [`--since=${Math.floor(options.after / 1000)}`] : []),
      range,
      '--',
    ];
    return parseLog(await this.#run(args));
  }

  async #run(args: string[]): Promise<string> {
    try {
      return await this.#git.raw(args);
    } catch (error) {
      throw new SystemError('git_failed', `git ${args[0] ?? ''} failed in ${this.#path}`, {
        cause: error,
        retryable: true,
      });
    }
  }
}

/** Parses the output of `log` above. */
export function parseLog(output: string): GitCommit[] {
  const commits: GitCommit[] = [];
  for (const record of output.split(RECORD)) {
    const end = record.indexOf(END_OF_HEADER);
    if (end < 0) continue;
    const [sha, parents, author, authorEmail, seconds, subject, body] = record.slice(0, end).split(FIELD);
    if (!sha || !/^[0-9a-f]{40,64}$/.test(sha)) continue;
    const files: string[] = [];
    const added: string[] = [];
    for (const line of record.slice(end + 1).split('\n')) {
      if (line.startsWith('diff --git ')) {
        const match = / b\/(.+)$/.exec(line);
        if (match?.[1] && files.length < MAX_FILES) files.push(match[1]);
      } else if (line.startsWith('+') && !line.startsWith('+++') && added.length < MAX_ADDED_LINES) {
        added.push(line.slice(1, 1001));
      }
    }
    commits.push({
      sha,
      parents: (parents ?? '').split(' ').filter(Boolean),
      author: author ?? '',
      authorEmail: authorEmail ?? '',
      at: Number(seconds) * 1000 || 0,
      subject: subject ?? '',
      body: (body ?? '').trim(),
      files,
      added,
    });
  }
  return commits;
}
