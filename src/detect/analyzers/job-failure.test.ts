import { describe, expect, it } from 'vitest';
import { MINUTE, NOW, jobFrom, withJobFailed, type Manifest } from '../../../test/fixtures/detect/cluster.js';
import { jobFailureScenario, oomKillJobScenario } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { jobFailureAnalyzer } from './job-failure.js';
import type { ClusterSnapshot, Job } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [jobFailureAnalyzer] });

const nightly: Manifest = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'nightly-export-29031840', namespace: 'batch' },
  spec: {
    activeDeadlineSeconds: 600,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'export', image: 'shop/export:1' }] } },
  },
};

function ownedByCronJob(job: Job): Job {
  return {
    ...job,
    metadata: {
      ...job.metadata,
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly-export', uid: 'c1', controller: true },
      ],
    },
  };
}

describe('job-failure analyzer', () => {
  it.each([
    {
      name: 'job_failure: two attempts exit 1 (backoffLimit 1)',
      snapshot: () => jobFailureScenario().snapshot,
      expected: {
        failed: 2,
        backoffLimit: 1,
        exitCodes: [1],
        terminationReasons: ['Error'],
        pods: 2,
        job: 'java-api-checker',
      },
    },
    {
      name: 'oomkill job: one attempt OOM-killed (backoffLimit 0)',
      snapshot: () => oomKillJobScenario().snapshot,
      expected: {
        failed: 1,
        backoffLimit: 0,
        exitCodes: [137],
        terminationReasons: ['OOMKilled'],
        pods: 1,
        job: 'analytics-exporter',
      },
    },
  ])('$name', ({ snapshot, expected }) => {
    const findings = run(snapshot());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'JobFailed',
      reason: 'BackoffLimitExceeded',
      severity: 'warning',
      object: { kind: 'Job', name: expected.job, namespace: 'default' },
      evidence: {
        failed: expected.failed,
        backoffLimit: expected.backoffLimit,
        exitCodes: expected.exitCodes,
        terminationReasons: expected.terminationReasons,
        conditionMessage: 'Job has reached the specified backoff limit',
      },
    });
    expect(findings[0]?.evidence['failedPods']).toHaveLength(expected.pods);
    expect(findings[0]?.message).toContain(`pods ended with ${expected.terminationReasons.join(', ')}`);
  });

  it('reports DeadlineExceeded and the CronJob as owner', () => {
    const job = ownedByCronJob(jobFrom(nightly));
    const failedJob: Job = {
      ...job,
      status: {
        failed: 1,
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
            lastTransitionTime: new Date(NOW - 30 * MINUTE).toISOString(),
          },
        ],
      },
    };
    expect(run({ jobs: [failedJob] })).toEqual([
      expect.objectContaining({
        reason: 'DeadlineExceeded',
        owner: { kind: 'CronJob', name: 'nightly-export' },
        evidence: expect.objectContaining({ activeDeadlineSeconds: 600, failedPods: [] }) as unknown,
      }),
    ]);
  });

  it('forgets failures older than failedJobWindowMs, and ignores running or complete Jobs', () => {
    const old = withJobFailed(jobFrom(nightly), {
      failedPods: 1,
      failedAgoMs: 7 * 60 * MINUTE,
      startedAgoMs: 8 * 60 * MINUTE,
    }).job;
    const runningJob: Job = {
      ...jobFrom(nightly),
      status: { active: 1, startTime: new Date(NOW - MINUTE).toISOString() },
    };
    const complete: Job = {
      ...jobFrom(nightly),
      status: {
        succeeded: 1,
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: new Date(NOW - MINUTE).toISOString() },
        ],
      },
    };
    expect(run({ jobs: [old, runningJob, complete] })).toEqual([]);
  });
});
