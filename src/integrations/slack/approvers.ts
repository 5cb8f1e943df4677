import type { webApi } from '@slack/bolt';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

/** True for a Slack user group id (`S…`); user ids start with `U` or `W`. */
export function isGroupId(id: string): boolean {
  return /^S[A-Z0-9]+$/.test(id);
}

/** Options of the directory. */
export interface ApproverDirectoryOptions {
  /** How long a group's member list is reused. Default 60 s. */
  cacheMs?: number;
  clock: Clock;
  logger: Logger;
}

/**
 * Decides whether a Slack user is among an approval's approvers: named directly by user id, or
 * a member of a named user group (`usergroups.users.list`, cached briefly). A group that cannot
 * be read counts as empty: refusing a legitimate approver is recoverable, approving for a
 * stranger is not.
 */
export class ApproverDirectory {
  readonly #client: webApi.WebClient;
  readonly #options: ApproverDirectoryOptions;
  readonly #groups = new Map<string, { members: Set<string>; at: number }>();

  constructor(client: webApi.WebClient, options: ApproverDirectoryOptions) {
    this.#client = client;
    this.#options = options;
  }

  async isApprover(userId: string, approvers: readonly string[]): Promise<boolean> {
    if (approvers.includes(userId)) return true;
    for (const group of approvers.filter(isGroupId)) {
      if ((await this.#members(group)).has(userId)) return true;
    }
    return false;
  }

  async #members(group: string): Promise<Set<string>> {
    const now = this.#options.clock.now();
    const cached = this.#groups.get(group);
    if (cached && now - cached.at < (this.#options.cacheMs ?? 60_000)) return cached.members;
    try {
      const reply = await this.#client.usergroups.users.list({ usergroup: group });
      const members = new Set(reply.users ?? []);
      this.#groups.set(group, { members, at: now });
      return members;
    } catch (error) {
      this.#options.logger.warn(
        { group, err: error instanceof Error ? error.message : String(error) },
        'could not read the approver group; treating it as empty',
      );
      return new Set();
    }
  }
}
