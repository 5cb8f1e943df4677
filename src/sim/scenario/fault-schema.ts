import { z } from 'zod';
import { durationSchema } from './duration.js';

const service = z.string().min(1).describe('the root-cause service');
const fraction = z.number().min(0).max(1);
const commit = {
  message: z.string().optional().describe('commit message of the change'),
  author: z.string().optional().describe('commit author'),
};

/** Every fault kind the sim knows, in docs/evals.md order. */
export const FAULT_KINDS = [
  'bad_deploy',
  'bad_config',
  'image_pull',
  'memory_leak',
  'traffic_surge',
  'connection_pool_exhaustion',
  'cache_memory_pressure',
  'dependency_failure',
  'node_pressure',
  'dns_failure',
  'pending_unschedulable',
  'flag_regression',
  'noisy_neighbor',
  'cert_expiry',
  'flapping',
] as const;

/** A fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

export const faultKindSchema = z.enum(FAULT_KINDS);

/** One fault, by kind, with its kind-specific fields (docs/evals.md, "Faults"). */
export const faultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('bad_deploy'),
      service,
      image: z.string().optional().describe('the bad image; default: the next minor version'),
      errorRate: fraction.default(0.3).describe('error rate once every pod runs the bad image'),
      latencyFactor: z.number().min(1).default(1.5),
      ...commit,
    })
    .strict(),
  z
    .object({
      kind: z.literal('bad_config'),
      service,
      key: z.string().default('DATABASE_POOL_SIZE').describe('the config key that changed'),
      value: z.string().default('-1'),
      error: z.string().optional().describe('the config error the new pods log before they exit'),
      ...commit,
    })
    .strict(),
  z
    .object({
      kind: z.literal('image_pull'),
      service,
      image: z.string().optional().describe('an image that does not exist; default: a tag with a typo'),
      ...commit,
    })
    .strict(),
  z
    .object({
      kind: z.literal('memory_leak'),
      service,
      rateMiPerMin: z
        .number()
        .positive()
        .optional()
        .describe('default: from baseline to the limit in 4 minutes'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('traffic_surge'),
      service,
      factor: z.number().min(1).default(4).describe('traffic multiplier at the peak'),
      ramp: durationSchema.prefault('2m').describe('time to reach the peak'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('connection_pool_exhaustion'),
      service,
      datastore: z.string().min(1).describe('the datastore whose connections run out'),
      image: z.string().optional(),
      poolSize: z.number().int().positive().default(200).describe('the pool size the bad deploy sets'),
      ...commit,
    })
    .strict(),
  z
    .object({
      kind: z.literal('cache_memory_pressure'),
      service: service.describe('the cache'),
      job: z.string().optional().describe('the batch job filling the cache; default <service>-warmup'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('dependency_failure'),
      service,
      errorRate: fraction.default(0.6),
    })
    .strict(),
  z
    .object({
      kind: z.literal('node_pressure'),
      service: service.describe('a service with pods on the node'),
      node: z.string().optional().describe('default: the node of the first pod of service'),
      pressure: z.enum(['memory', 'disk']).default('memory'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('dns_failure'),
      service,
      policy: z.string().default('deny-egress').describe('name of the NetworkPolicy that appears'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('pending_unschedulable'),
      service,
      reason: z.enum(['cpu', 'memory', 'affinity', 'taint']).default('cpu'),
      replicas: z.number().int().positive().optional().describe('replicas after the scale-up; default +2'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('flag_regression'),
      service,
      flag: z.string().optional().describe("default: the service's first flag"),
      value: z.union([z.boolean(), z.string(), z.number()]).default(true).describe('the value it flips to'),
      errorRate: fraction.default(0.25),
      actor: z.string().default('release-bot'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('noisy_neighbor'),
      service: service.describe('the service whose co-located pods suffer'),
      job: z.string().optional().describe('the batch job; default <service>-batch'),
      node: z.string().optional().describe("default: the node of the service's first pod"),
    })
    .strict(),
  z
    .object({
      kind: z.literal('cert_expiry'),
      service,
      certificate: z.string().optional().describe('default <service>-tls'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('flapping'),
      service,
      alert: z.string().default('HighLatencyP99'),
      period: durationSchema.prefault('2m').describe('time between firing and resolved'),
      severity: z.string().default('warning'),
    })
    .strict(),
]);

/** A parsed fault. */
export type Fault = z.output<typeof faultSchema>;
/** The parsed fault of one kind. */
export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;
