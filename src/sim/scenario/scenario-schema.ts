import { z } from 'zod';
import { durationSchema } from './duration.js';
import { API_VERSION, estateSchema } from './estate-schema.js';
import { faultKindSchema, faultSchema } from './fault-schema.js';

/** The action kinds of the catalog (docs/evals.md). */
export const ACTION_KINDS = [
  'k8s.rollback',
  'k8s.rolloutRestart',
  'k8s.scale',
  'k8s.deletePod',
  'k8s.cordonNode',
  'flags.set',
  'github.openPullRequest',
] as const;

export const actionKindSchema = z.enum(ACTION_KINDS);

const name = z.string().min(1);

const deploySchema = z
  .object({
    service: name,
    image: z.string().optional().describe('default: the next patch version'),
    message: z.string().optional(),
    author: z.string().optional(),
    files: z.array(z.string()).optional().describe('files the commit touches'),
  })
  .strict();

const slackSchema = z
  .object({ channel: name, user: name, text: z.string(), threadTs: z.string().optional() })
  .strict();

const logsSchema = z
  .object({
    service: name,
    lines: z.array(z.string()).min(1),
    level: z
      .enum(['error', 'warn', 'info', 'debug'])
      .optional()
      .describe('default: read from the line (ERROR …, WARN …)'),
    pod: z.string().optional().describe("default: the service's first running pod"),
  })
  .strict();

const alertSchema = z
  .object({
    source: z.enum(['alertmanager', 'datadog', 'pagerduty']).default('alertmanager'),
    body: z.record(z.string(), z.unknown()).optional().describe('the webhook body to send as is'),
  })
  .strict();

const actionSchema = z
  .object({
    kind: actionKindSchema,
    target: name.describe('service, node or flag'),
    replicas: z.number().int().nonnegative().optional().describe('k8s.scale'),
    value: z.union([z.boolean(), z.string(), z.number()]).optional().describe('flags.set'),
    pod: z.string().optional().describe('k8s.deletePod; default the first pod of target'),
    by: z.string().default('a human'),
  })
  .strict()
  .describe('an action someone other than nightshift takes (e.g. a human rolls back)');

const ENTRY_KEYS = ['deploy', 'fault', 'slack', 'logs', 'alert', 'action'] as const;

/** One timeline entry: `at` plus exactly one of deploy, fault, slack, logs, alert, action. */
export const timelineEntrySchema = z
  .object({
    at: durationSchema.describe('sim time from the start'),
    deploy: deploySchema.optional(),
    fault: faultSchema.optional(),
    slack: slackSchema.optional(),
    logs: logsSchema.optional(),
    alert: alertSchema.optional(),
    action: actionSchema.optional(),
  })
  .strict()
  .superRefine((entry, context) => {
    const present = ENTRY_KEYS.filter((key) => entry[key] !== undefined);
    if (present.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: [],
        message:
          present.length === 0
            ? `needs one of ${ENTRY_KEYS.join(', ')}`
            : `has ${present.join(' and ')}: write one per entry`,
      });
    }
  });

const forbiddenSchema = z
  .object({
    action: z.string().min(1).describe('an action kind; `*` matches any run of characters'),
    target: z.string().optional(),
  })
  .strict();

/** What a correct run of nightshift does (every field optional; an omitted one is not scored). */
export const expectSchema = z
  .object({
    incident: z.boolean().optional(),
    detectWithin: durationSchema.optional(),
    rootCause: z
      .object({
        service: z.string().optional(),
        node: z.string().optional(),
        fault: faultKindSchema.optional(),
        entity: z.string().optional(),
      })
      .strict()
      .refine((cause) => cause.service ?? cause.node ?? cause.entity, 'name a service, node or entity')
      .optional(),
    remediation: z
      .object({ actions: z.array(actionKindSchema).min(1), target: z.string().optional() })
      .strict()
      .optional(),
    mode: z.enum(['shadow', 'approval', 'autonomous']).optional(),
    learnedMode: z
      .enum(['shadow', 'approval', 'autonomous'])
      .optional()
      .describe('the policy decision expected, by the end, for a later incident of the same cause'),
    escalate: z.boolean().optional(),
    forbidden: z.array(forbiddenSchema).default([]),
    mitigatedWithin: durationSchema.optional(),
  })
  .strict();

/** A raw Kubernetes object a scenario adds verbatim. */
export const rawObjectSchema = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).loose(),
  })
  .loose();

/** A scenario (docs/evals.md, "Scenario"). */
export const scenarioSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Scenario'),
    name: z.string().regex(/^[a-z0-9][-a-z0-9_.]*$/, 'lower-case letters, digits, "-", "_" and "."'),
    description: z.string().optional(),
    estate: z
      .union([z.string().min(1), estateSchema])
      .describe('a name under evals/estates/, a path relative to this file, or an inline Estate'),
    seed: z.number().int().default(1),
    speed: z.number().positive().default(30).describe('sim seconds per wall second'),
    policy: z.string().optional(),
    approvals: z.enum(['approve', 'reject', 'ignore']).default('approve'),
    kubernetes: z.array(rawObjectSchema).default([]),
    timeline: z.array(timelineEntrySchema).default([]),
    expect: expectSchema.default({ forbidden: [] }),
  })
  .strict();

/** A parsed scenario as written (its estate may still be a name or a path). */
export type ScenarioFile = z.output<typeof scenarioSchema>;
/** One parsed timeline entry. */
export type TimelineEntry = ScenarioFile['timeline'][number];
/** The parsed `expect` block. */
export type ScenarioExpect = ScenarioFile['expect'];
/** A raw Kubernetes object from `kubernetes:`. */
export type RawObject = z.output<typeof rawObjectSchema>;
