import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGithubVerifier } from '../../../src/ingest/sources/github/authenticate.js';
import { parseGithub } from '../../../src/ingest/sources/github/parse.js';
import type { Signal } from '../../../src/ingest/signal.js';
import { contextFor, fixture, fixtures, GITHUB_EVENT_OF } from '../fixtures.js';

function signalsOf(name: string): Signal[] {
  const { body, text } = fixture('github', name);
  const event = GITHUB_EVENT_OF[name] ?? 'unknown';
  const result = parseGithub(
    body,
    { 'x-github-event': event, 'x-github-delivery': `delivery-${name}` },
    contextFor(text),
  );
  if ('error' in result) throw new Error(result.error.message);
  return result.ok;
}

describe('the GitHub parser', () => {
  it('parses every recorded delivery', () => {
    for (const { name } of fixtures('github')) expect(() => signalsOf(name), name).not.toThrow();
  });

  it('turns a push into a change with the repository and its commits', () => {
    const [push] = signalsOf('push-new-branch');
    expect(push).toMatchObject({
      source: 'github',
      kind: 'change',
      severity: 'info',
      fingerprint: 'push/Codertocat/Hello-World/refs/heads/master@6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      summary: 'push to master of Codertocat/Hello-World: 1 commit, head 6113728 Initial commit',
      observedAt: 1557933657000,
      raw: { source: 'webhook/github', deliveryId: 'delivery-push-new-branch' },
      entities: [
        { kind: 'Repo', id: 'repo:github.com/Codertocat/Hello-World', name: 'Codertocat/Hello-World' },
        {
          kind: 'Commit',
          id: 'commit:github.com/Codertocat/Hello-World@6113728f27ae82c7b1a177c8d03f9e96e0adf246',
          name: '6113728f27ae',
        },
      ],
    });
    expect(push?.status).toBeUndefined();
    expect(push?.attributes).toMatchObject({
      ref: 'refs/heads/master',
      created: true,
      commitCount: 1,
      pusher: 'Codertocat',
    });
    const [deleted] = signalsOf('push-tag-deleted');
    expect(deleted?.summary).toBe('tag simple-tag of Codertocat/Hello-World deleted');
    expect(deleted?.entities).toEqual([
      { kind: 'Repo', id: 'repo:github.com/Codertocat/Hello-World', name: 'Codertocat/Hello-World' },
    ]);
  });

  it('turns deployments, their statuses and completed workflow runs into changes', () => {
    const [deployment] = signalsOf('deployment-created');
    expect(deployment).toMatchObject({
      fingerprint: 'deployment/Codertocat/Hello-World/145988746',
      summary: 'deployment 145988746 of Codertocat/Hello-World@f95f852 (master) to production created',
      observedAt: Date.parse('2019-05-15T15:20:53Z'),
      attributes: { environment: 'production', sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e' },
    });
    const [status] = signalsOf('deployment-status-success');
    expect(status).toMatchObject({
      fingerprint: 'deployment/Codertocat/Hello-World/145988746/status/209916254',
      severity: 'info',
      summary: 'deployment 145988746 of Codertocat/Hello-World@f95f852 to production: success',
    });
    const [run] = signalsOf('workflow-run-completed');
    expect(run).toMatchObject({
      fingerprint: 'workflow-run/octo-org/octo-repo/289782451/1',
      summary: 'workflow test run 163 of octo-org/octo-repo success on master (3484a3f)',
      attributes: { conclusion: 'success', branch: 'master' },
    });
  });

  it('marks failed deployments and workflow runs as warnings', () => {
    const { body, text } = fixture('github', 'deployment-status-success');
    const failed = structuredClone(body) as { deployment_status: { state: string } };
    failed.deployment_status.state = 'failure';
    const result = parseGithub(failed, { 'x-github-event': 'deployment_status' }, contextFor(text));
    expect(result).toHaveProperty('ok.0.severity', 'warning');
  });

  it('turns a merged pull request into a change and ignores one closed unmerged', () => {
    const [merged] = signalsOf('pull-request-closed-merged');
    expect(merged).toMatchObject({
      fingerprint: 'pull-request/Codertocat/Hello-World/2',
      summary:
        'pull request #2 merged into master of Codertocat/Hello-World: Update the README with new information.',
      observedAt: Date.parse('2019-05-15T15:21:18Z'),
      attributes: { mergedBy: 'Codertocat', mergeCommitSha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85' },
    });
    expect(merged?.entities.map((entity) => entity.kind)).toEqual(['Repo', 'PullRequest', 'Commit']);
    expect(merged?.entities[1]?.id).toBe('pr:github.com/Codertocat/Hello-World#2');
    expect(signalsOf('pull-request-closed-unmerged')).toEqual([]);
  });

  it('ignores events it does not ingest and actions other than completed runs', () => {
    expect(signalsOf('check-run-completed')).toEqual([]);
    const { body, text } = fixture('github', 'workflow-run-completed');
    const requested = { ...(body as object), action: 'requested' };
    expect(parseGithub(requested, { 'x-github-event': 'workflow_run' }, contextFor(text))).toEqual({
      ok: [],
    });
    expect(
      parseGithub({ zen: 'Keep it logically awesome.' }, { 'x-github-event': 'ping' }, contextFor(text)),
    ).toEqual({ ok: [] });
  });

  it('needs the event header and names the fields a malformed event lacks', () => {
    expect(parseGithub({}, {}, contextFor('{}'))).toHaveProperty('error.issues.0.path', 'X-GitHub-Event');
    const result = parseGithub(
      { ref: 'refs/heads/main', before: 'nope', repository: {} },
      { 'x-github-event': 'push' },
      contextFor('{}'),
    );
    expect(result).toHaveProperty('error');
    if ('error' in result) {
      expect(result.error.issues.map((issue) => issue.path).sort()).toEqual([
        'after',
        'before',
        'repository.full_name',
      ]);
    }
  });
});

describe('GitHub signature verification', () => {
  const secret = 'gh-secret-0123';
  const body = fixture('github', 'push-new-branch').text;
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const verifier = createGithubVerifier(secret);

  it('accepts X-Hub-Signature-256 of the raw body, empty or not', async () => {
    expect(await verifier.verify({ 'x-hub-signature-256': signature }, body)).toEqual({ ok: true });
    const empty = `sha256=${createHmac('sha256', secret).digest('hex')}`;
    expect(await verifier.verify({ 'x-hub-signature-256': empty }, '')).toEqual({ ok: true });
  });

  it('refuses a missing, forged, legacy-only or mismatched signature', async () => {
    const refusals = await Promise.all([
      verifier.verify({}, body),
      verifier.verify(
        { 'x-hub-signature-256': signature.replace(/.$/, (last) => (last === '0' ? '1' : '0')) },
        body,
      ),
      verifier.verify(
        { 'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` },
        body,
      ),
      verifier.verify({ 'x-hub-signature-256': signature.slice('sha256='.length) }, body),
      verifier.verify({ 'x-hub-signature-256': signature }, `${body} `),
      verifier.verify({ 'x-hub-signature-256': signature }, ''),
      verifier.verify({ 'x-hub-signature-256': `sha256=${createHmac('sha256', 'other').digest('hex')}` }, ''),
      createGithubVerifier('other').verify({ 'x-hub-signature-256': signature }, body),
    ]);
    for (const result of refusals) expect(result.ok).toBe(false);
  });
});
