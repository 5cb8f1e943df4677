import { watch, type FSWatcher } from 'node:fs';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { formatProblem, loadPolicies, type PolicyLoadResult } from './load.js';
import type { PolicySet } from './policy-set.js';

/** A live view of a policy directory. */
export interface PolicyWatcher {
  /** The last good set: the initial one until a valid edit replaces it. */
  current(): PolicySet | undefined;
  /** Loads now (as a file change would); resolves with what the load found. Safe to call concurrently. */
  reload(): Promise<PolicyLoadResult>;
  /** Stops watching; safe to call twice. A reload in flight finishes but no longer calls `onChange`. */
  close(): void;
}

export interface PolicyWatcherOptions {
  /** The set already loaded at start (the app refuses to start without one). */
  initial?: PolicySet;
  /** Quiet time after the last file event before reloading; default 150 ms. */
  debounceMs?: number;
}

/**
 * Watches `path` (a policy directory or file) with `fs.watch` and reloads after edits settle.
 * A valid edit calls `onChange(set)` and logs at info; an invalid one keeps the last good set
 * and logs every problem at error level. `onChange` throwing is logged, never propagated.
 */
export function createPolicyWatcher(
  path: string,
  onChange: (set: PolicySet) => void,
  logger: Logger,
  options: PolicyWatcherOptions = {},
): PolicyWatcher {
  const log = logger.child({ component: 'policy-watcher' });
  const debounceMs = options.debounceMs ?? 150;
  let current = options.initial;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PolicyLoadResult> | undefined;
  let again = false;

  const loadOnce = async (): Promise<PolicyLoadResult> => {
    const result = await loadPolicies(path);
    if (closed) return result;
    if ('ok' in result) {
      current = result.ok;
      log.info(
        { path, policies: result.ok.policies.map((policy) => policy.name), rules: result.ok.rules.length },
        'policies reloaded',
      );
      try {
        onChange(result.ok);
      } catch (error) {
        log.error({ path, err: describeError(error) }, 'policy change handler failed');
      }
    } else {
      log.error(
        {
          path,
          problems: result.errors.map(formatProblem),
          keeping: current?.policies.map((policy) => policy.name) ?? [],
        },
        `INVALID POLICY EDIT in ${path}: ${result.errors.length} problem(s); keeping the last good policy set`,
      );
    }
    return result;
  };

  const reload = (): Promise<PolicyLoadResult> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result: PolicyLoadResult;
      do {
        again = false;
        result = await loadOnce();
      } while (again && !closed);
      running = undefined;
      return result;
    })();
    return running;
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, { persistent: false }, () => {
      if (closed) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void reload();
      }, debounceMs);
    });
    watcher.on('error', (error) =>
      log.error({ path, err: describeError(error) }, 'policy watch failed; edits are no longer picked up'),
    );
  } catch (error) {
    log.error({ path, err: describeError(error) }, 'cannot watch policies; edits will not be picked up');
  }

  return {
    current: () => current,
    reload,
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
