import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rawDigest, type ParseContext } from '../../src/ingest/parse.js';

const root = fileURLToPath(new URL('../fixtures/signals/', import.meta.url));

/** The sources with recorded webhook bodies under test/fixtures/signals/. */
export type FixtureSource = 'alertmanager' | 'datadog' | 'pagerduty' | 'github' | 'slack';

/** A recorded body: its exact text and its parsed JSON. */
export interface Fixture {
  name: string;
  text: string;
  body: unknown;
}

/** Reads `test/fixtures/signals/<source>/<name>.json`. */
export function fixture(source: FixtureSource, name: string): Fixture {
  const text = readFileSync(`${root}${source}/${name}.json`, 'utf8');
  return { name, text, body: JSON.parse(text) as unknown };
}

/** Every fixture of a source. */
export function fixtures(source: FixtureSource): Fixture[] {
  return readdirSync(`${root}${source}`)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => fixture(source, file.slice(0, -'.json'.length)));
}

/** The time the tests pretend bodies arrive at. */
export const RECEIVED_AT = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A parse context for a body's text. */
export function contextFor(text: string, cluster?: string): ParseContext {
  return { receivedAt: RECEIVED_AT, digest: rawDigest(text), ...(cluster ? { cluster } : {}) };
}

/** The GitHub event name each GitHub fixture was recorded for (X-GitHub-Event). */
export const GITHUB_EVENT_OF: Readonly<Record<string, string>> = {
  'check-run-completed': 'check_run',
  'deployment-created': 'deployment',
  'deployment-status-success': 'deployment_status',
  'pull-request-closed-merged': 'pull_request',
  'pull-request-closed-unmerged': 'pull_request',
  'push-new-branch': 'push',
  'push-tag-deleted': 'push',
  'workflow-run-completed': 'workflow_run',
};
