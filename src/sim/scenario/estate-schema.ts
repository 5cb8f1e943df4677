import { z } from 'zod';

/** The API version every estate and scenario file declares. */
export const API_VERSION = 'nightshift.dev/v1';

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and "-" (a Kubernetes name)')
  .max(63);

/** The environments a service may run in. */
export const environmentSchema = z.enum(['prod', 'staging', 'dev']);

/** The kinds of service an estate may hold. */
export const serviceKindSchema = z.enum(['service', 'datastore', 'queue', 'external', 'job']);

const baselineSchema = z
  .object({
    rps: z.number().nonnegative().optional().describe('requests per second'),
    latencyP50Ms: z.number().positive().optional(),
    latencyP99Ms: z.number().positive().optional(),
    errorRate: z.number().min(0).max(1).optional().describe('failed / all requests, 0..1'),
    cpu: z.number().nonnegative().optional().describe('cores used per pod'),
    memoryMi: z.number().positive().optional().describe('working set per pod, MiB'),
  })
  .strict()
  .describe('Normal behaviour; unset values get defaults by service kind');

const nodeSchema = z
  .object({
    name: dnsLabel,
    cpu: z.number().positive().default(8).describe('allocatable cores'),
    memoryGi: z.number().positive().default(32),
    zone: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const serviceSchema = z
  .object({
    name: dnsLabel,
    namespace: dnsLabel.default('default'),
    kind: serviceKindSchema.default('service'),
    engine: z
      .string()
      .optional()
      .describe('datastores and queues: redis, memcached, postgres, mysql, kafka, rabbitmq, …'),
    image: z.string().optional().describe('defaults to <estate>/<name>:1.0.0'),
    replicas: z.number().int().nonnegative().default(1),
    tier: z.enum(['critical', 'standard']).default('standard'),
    stateful: z.boolean().default(false).describe('run as a StatefulSet'),
    environment: environmentSchema.optional().describe("overrides the estate's environment"),
    owner: z.string().optional(),
    repo: z.string().optional().describe('owner/name; the sim keeps a real git repository for it'),
    dependsOn: z.array(dnsLabel).default([]),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    port: z.number().int().min(1).max(65535).optional(),
    baseline: baselineSchema.default({}),
    slo: z
      .object({
        latencyP99Ms: z.number().positive().optional(),
        errorRate: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({ cpu: z.number().positive().optional(), memoryMi: z.number().positive().optional() })
      .strict()
      .optional()
      .describe('per-pod limits; default 2.5× baseline cpu and 2× baseline memory'),
    maxConnections: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('datastores: connection limit (default 100)'),
    maxMemoryMi: z.number().positive().optional().describe('caches: maxmemory in MiB (default 1024)'),
    hpa: z
      .object({
        minReplicas: z.number().int().positive(),
        maxReplicas: z.number().int().positive(),
        targetCpuPercent: z.number().int().positive().default(70),
      })
      .strict()
      .optional(),
    node: dnsLabel.optional().describe('pin every pod to this node'),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const flagSchema = z
  .object({
    key: z.string().min(1),
    service: dnsLabel.optional(),
    value: z.union([z.boolean(), z.string(), z.number()]),
    description: z.string().optional(),
  })
  .strict();

const DEFAULT_NODES = [
  { name: 'node-a', cpu: 8, memoryGi: 32 },
  { name: 'node-b', cpu: 8, memoryGi: 32 },
  { name: 'node-c', cpu: 8, memoryGi: 32 },
];

/** An estate: the cluster, its nodes, services and flags (docs/evals.md, "Estate"). */
export const estateSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Estate'),
    name: dnsLabel,
    description: z.string().optional(),
    cluster: z.string().min(1).optional().describe('defaults to the estate name'),
    environment: environmentSchema.default('prod'),
    nodes: z.array(nodeSchema).min(1).default(DEFAULT_NODES),
    services: z.array(serviceSchema).min(1),
    flags: z.array(flagSchema).default([]),
  })
  .strict()
  .superRefine((estate, context) => {
    const names = new Set<string>();
    estate.services.forEach((service, index) => {
      if (names.has(service.name)) {
        context.addIssue({
          code: 'custom',
          path: ['services', index, 'name'],
          message: `duplicate service "${service.name}"`,
        });
      }
      names.add(service.name);
    });
    const nodes = new Set(estate.nodes.map((node) => node.name));
    estate.services.forEach((service, index) => {
      service.dependsOn.forEach((dependency, position) => {
        if (!names.has(dependency)) {
          context.addIssue({
            code: 'custom',
            path: ['services', index, 'dependsOn', position],
            message: `unknown service "${dependency}"`,
          });
        }
      });
      if (service.node && !nodes.has(service.node)) {
        context.addIssue({
          code: 'custom',
          path: ['services', index, 'node'],
          message: `unknown node "${service.node}"`,
        });
      }
      if (service.hpa && service.hpa.minReplicas > service.hpa.maxReplicas) {
        context.addIssue({
          code: 'custom',
          path: ['services', index, 'hpa'],
          message: 'minReplicas exceeds maxReplicas',
        });
      }
    });
    const keys = new Set<string>();
    estate.flags.forEach((flag, index) => {
      if (keys.has(flag.key))
        context.addIssue({
          code: 'custom',
          path: ['flags', index, 'key'],
          message: `duplicate flag "${flag.key}"`,
        });
      keys.add(flag.key);
      if (flag.service && !names.has(flag.service)) {
        context.addIssue({
          code: 'custom',
          path: ['flags', index, 'service'],
          message: `unknown service "${flag.service}"`,
        });
      }
    });
  });

/** A parsed estate, defaults applied. */
export type Estate = z.output<typeof estateSchema>;
/** One service of a parsed estate. */
export type EstateService = Estate['services'][number];
/** One node of a parsed estate. */
export type EstateNode = Estate['nodes'][number];
/** One flag of a parsed estate. */
export type EstateFlag = Estate['flags'][number];
