import { z } from 'zod';
import { Secret } from '../shared/secret.js';

/**
 * Every nightshift setting, in one strict schema. Each leaf carries `env` (the environment
 * variable that sets it) and a description; the README's configuration reference is generated
 * from this file (`npm run docs:config`), and a test fails when the two drift apart.
 *
 * Secrets are `Secret` values: they print as `<secret>`, and each can also be read from a file
 * named by `<ENV>_FILE` (or `{file: PATH}` in YAML), as mounted Kubernetes secrets are.
 */
const secret = z
  .string()
  .min(1, 'must not be empty')
  .transform((value) => new Secret(value));

const durationMs = (description: string, fallback: number, env: string) =>
  z
    .number()
    .int()
    .min(0)
    .default(fallback)
    .meta({ env, description: `${description} (milliseconds)` });

const server = z
  .strictObject({
    host: z
      .string()
      .default('127.0.0.1')
      .meta({ env: 'NIGHTSHIFT_HOST', description: 'Address the HTTP server binds; 0.0.0.0 in a cluster' }),
    port: z.number().int().min(0).max(65535).default(8080).meta({
      env: 'NIGHTSHIFT_PORT',
      description: 'HTTP port for webhooks, health, metrics and the API (0: any free port)',
    }),
    publicUrl: z.url().optional().meta({
      env: 'NIGHTSHIFT_PUBLIC_URL',
      description: 'URL people reach this nightshift at, for links in Slack, PagerDuty and MCP answers',
    }),
    bodyLimitBytes: z.number().int().min(1024).default(1_048_576).meta({
      env: 'NIGHTSHIFT_BODY_LIMIT_BYTES',
      description: 'Largest request body accepted; larger gets 413',
    }),
  })
  .prefault({});

const log = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ env: 'NIGHTSHIFT_LOG_LEVEL', description: 'Log level; logs are JSON lines on stderr' }),
  })
  .prefault({});

const redis = z
  .strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379')
      .meta({ env: 'REDIS_URL', description: 'Redis for the BullMQ queues' }),
    password: secret
      .optional()
      .meta({ env: 'REDIS_PASSWORD', secret: true, description: 'Redis password, if not in the URL' }),
    prefix: z
      .string()
      .regex(/^[\w:.-]+$/, 'use letters, digits, and : . _ -')
      .default('nightshift')
      .meta({
        env: 'NIGHTSHIFT_QUEUE_PREFIX',
        description: 'BullMQ key prefix; one per deployment sharing a Redis',
      }),
  })
  .prefault({});

const neo4j = z
  .strictObject({
    uri: z
      .string()
      .regex(/^(bolt|neo4j)(\+s|\+ssc)?:\/\/\S+$/, 'must be a bolt:// or neo4j:// URI')
      .optional()
      .meta({ env: 'NEO4J_URI', description: 'Neo4j 5 Bolt URI; required when graph.backend is neo4j' }),
    user: z.string().default('neo4j').meta({ env: 'NEO4J_USER', description: 'Neo4j user' }),
    password: secret
      .optional()
      .meta({ env: 'NEO4J_PASSWORD', secret: true, description: 'Neo4j password (omit when auth is off)' }),
    database: z
      .string()
      .optional()
      .meta({ env: 'NEO4J_DATABASE', description: 'Neo4j database name (server default when unset)' }),
    namespace: z.string().min(1).max(200).default('default').meta({
      env: 'NEO4J_NAMESPACE',
      description:
        "Scopes this installation's data inside the database, so several installations can share one",
    }),
  })
  .prefault({});

const graph = z
  .strictObject({
    backend: z
      .enum(['embedded', 'neo4j'])
      .default('embedded')
      .meta({ env: 'NIGHTSHIFT_GRAPH_BACKEND', description: 'Where the knowledge graph lives' }),
    fsync: z.enum(['always', 'interval', 'never']).default('interval').meta({
      env: 'NIGHTSHIFT_GRAPH_FSYNC',
      description: 'Embedded store: when the journal is flushed to disk',
    }),
    neo4j,
  })
  .prefault({});

const shutdown = z
  .strictObject({
    timeoutMs: durationMs(
      'Longest a graceful stop may take before work is left to another replica',
      10_000,
      'NIGHTSHIFT_SHUTDOWN_TIMEOUT_MS',
    ),
  })
  .prefault({});

/** One condition of a silence, as in Alertmanager (docs/loop.md, Noise). */
const matcher = z
  .strictObject({
    name: z.string().min(1),
    value: z.string(),
    isRegex: z.boolean().optional(),
  })
  .refine(
    (value) => {
      if (!value.isRegex) return true;
      try {
        new RegExp(value.value);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'value is not a valid regular expression', path: ['value'] },
  );

/** A silence or maintenance window from the configuration file. */
const silence = z
  .strictObject({
    id: z.string().min(1).max(256),
    kind: z.enum(['silence', 'maintenance']).default('silence'),
    matchers: z.array(matcher).min(1),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    comment: z.string().max(1_000).optional(),
    createdBy: z.string().min(1).max(128).optional(),
  })
  .refine(
    (value) => !value.startsAt || !value.endsAt || Date.parse(value.endsAt) > Date.parse(value.startsAt),
    {
      message: 'endsAt must be after startsAt',
      path: ['endsAt'],
    },
  );

const learnNoise = z
  .strictObject({
    after: z.number().int().min(0).default(3).meta({
      env: 'NIGHTSHIFT_LOOP_LEARN_NOISE_AFTER',
      description:
        'A warning or info alert whose incidents resolved on their own this many times within learnNoise.withinMs is learned as noise; 0 learns nothing',
    }),
    withinMs: durationMs(
      'The window incidents that resolved on their own are counted over',
      86_400_000,
      'NIGHTSHIFT_LOOP_LEARN_NOISE_WITHIN_MS',
    ),
    maxDurationMs: durationMs(
      'An incident open longer than this does not count as resolved on its own',
      900_000,
      'NIGHTSHIFT_LOOP_LEARN_NOISE_MAX_DURATION_MS',
    ),
    forMs: durationMs(
      'How long an alert learned as noise is suppressed before it must be learned again',
      604_800_000,
      'NIGHTSHIFT_LOOP_LEARN_NOISE_FOR_MS',
    ),
  })
  .prefault({});

const loop = z
  .strictObject({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .meta({ env: 'NIGHTSHIFT_LOOP_CONCURRENCY', description: 'Jobs processed at once per stage worker' }),
    verifyDelayMs: durationMs(
      'How long after an action verification starts',
      60_000,
      'NIGHTSHIFT_VERIFY_DELAY_MS',
    ),
    heartbeatMs: durationMs(
      'How often the loop proves it processes jobs (readiness reads it)',
      15_000,
      'NIGHTSHIFT_HEARTBEAT_MS',
    ),
    correlationWindowMs: durationMs(
      'A signal joins a nearby incident only if that incident had a signal this recently',
      1_800_000,
      'NIGHTSHIFT_LOOP_CORRELATION_WINDOW_MS',
    ),
    correlationHops: z.number().int().min(0).max(6).default(2).meta({
      env: 'NIGHTSHIFT_LOOP_CORRELATION_HOPS',
      description: 'How many topology hops apart two signals may be to join one incident',
    }),
    flapWindowMs: durationMs(
      'Window an alert’s status changes are counted over for flapping',
      900_000,
      'NIGHTSHIFT_LOOP_FLAP_WINDOW_MS',
    ),
    flapThreshold: z.number().int().min(1).default(4).meta({
      env: 'NIGHTSHIFT_LOOP_FLAP_THRESHOLD',
      description:
        'More status changes than this within the flap window: the alert is suppressed as flapping',
    }),
    digestEveryMs: durationMs(
      'How often the suppressed-noise digest is logged and the correlation index swept of forgotten incidents; 0 turns both off',
      3_600_000,
      'NIGHTSHIFT_LOOP_DIGEST_EVERY_MS',
    ),
    transientHoldMs: durationMs(
      'A firing warning or info alert that would open a new incident waits this long; if it has resolved by then it opens nothing. 0 opens at once (critical alerts always do)',
      0,
      'NIGHTSHIFT_LOOP_TRANSIENT_HOLD_MS',
    ),
    blastRadiusDepth: z.number().int().min(1).max(6).default(3).meta({
      env: 'NIGHTSHIFT_LOOP_BLAST_RADIUS_DEPTH',
      description:
        'Hops downstream a signal’s entities are followed to a critical-tier service, which raises it to at least error',
    }),
    earlyWarningHorizonMs: durationMs(
      'A signal whose trend crosses its threshold within this horizon is raised to at least error (early warning)',
      7_200_000,
      'NIGHTSHIFT_LOOP_EARLY_WARNING_HORIZON_MS',
    ),
    silences: z.array(silence).default([]).meta({
      fileOnly: true,
      description:
        'Silences and maintenance windows: [{id, kind: silence|maintenance, matchers: [{name, value, isRegex?}], startsAt?, endsAt? (ISO 8601), comment?, createdBy?}] (docs/loop.md)',
    }),
    learnNoise,
  })
  .prefault({});

const anthropic = z
  .strictObject({
    apiKey: secret.optional().meta({
      env: 'ANTHROPIC_API_KEY',
      secret: true,
      description: 'Enables the Claude planner; without it the rules planner runs',
    }),
    baseUrl: z
      .url()
      .default('https://api.anthropic.com')
      .meta({ env: 'ANTHROPIC_BASE_URL', description: 'Messages API base URL' }),
    fastModel: z.string().default('claude-haiku-4-5').meta({
      env: 'NIGHTSHIFT_ANTHROPIC_FAST_MODEL',
      description: 'Model for proposing hypotheses and triage',
    }),
    deepModel: z
      .string()
      .default('claude-sonnet-4-5')
      .meta({ env: 'NIGHTSHIFT_ANTHROPIC_DEEP_MODEL', description: 'Model for deep checks' }),
  })
  .prefault({});

const slack = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: 'NIGHTSHIFT_SLACK_ENABLED', description: 'Post reports and approvals to Slack' }),
    botToken: secret.optional().meta({
      env: 'SLACK_BOT_TOKEN',
      secret: true,
      description: 'Bot token (xoxb-…); required when Slack is enabled',
    }),
    signingSecret: secret.optional().meta({
      env: 'SLACK_SIGNING_SECRET',
      secret: true,
      description: 'Verifies requests from Slack; required when Slack is enabled',
    }),
    apiUrl: z
      .url()
      .default('https://slack.com/api/')
      .meta({ env: 'SLACK_API_URL', description: 'Slack Web API base URL' }),
    channel: z
      .string()
      .default('#incidents')
      .meta({ env: 'NIGHTSHIFT_SLACK_CHANNEL', description: 'Channel for incident threads' }),
    messageChannels: z.array(z.string()).optional().meta({
      env: 'NIGHTSHIFT_SLACK_MESSAGE_CHANNELS',
      description: 'Channel ids whose messages are ingested (all the bot is in when unset)',
    }),
    commandUsers: z.array(z.string()).optional().meta({
      env: 'NIGHTSHIFT_SLACK_COMMAND_USERS',
      description: 'Slack user or group ids allowed to use /nightshift pause|resume (everyone when unset)',
    }),
    learnFromMessages: z.boolean().default(false).meta({
      env: 'NIGHTSHIFT_SLACK_LEARN_FROM_MESSAGES',
      description:
        'Read ingested messages for the datastores, queues and dependencies they name, and for stated dependencies (tentative DEPENDS_ON edges); every ingest.pollIntervalMs',
    }),
    workspaceUrl: z.url().optional().meta({
      env: 'NIGHTSHIFT_SLACK_WORKSPACE_URL',
      description: 'Workspace URL for message permalinks, e.g. https://acme.slack.com',
    }),
  })
  .prefault({});

const pagerduty = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: 'NIGHTSHIFT_PAGERDUTY_ENABLED', description: 'Escalate to PagerDuty' }),
    routingKey: secret.optional().meta({
      env: 'PAGERDUTY_ROUTING_KEY',
      secret: true,
      description: 'Events API v2 integration key; required when enabled',
    }),
    eventsUrl: z.url().default('https://events.pagerduty.com/v2/enqueue').meta({
      env: 'PAGERDUTY_EVENTS_URL',
      description: 'Events API v2 endpoint (EU: events.eu.pagerduty.com)',
    }),
  })
  .prefault({});

const datadog = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta({ env: 'NIGHTSHIFT_DATADOG_ENABLED', description: 'Read metrics, logs and events from Datadog' }),
    apiKey: secret
      .optional()
      .meta({ env: 'DD_API_KEY', secret: true, description: 'Datadog API key; required when enabled' }),
    appKey: secret.optional().meta({
      env: 'DD_APP_KEY',
      secret: true,
      description: 'Datadog application key; required when enabled',
    }),
    baseUrl: z
      .url()
      .default('https://api.datadoghq.com')
      .meta({ env: 'NIGHTSHIFT_DATADOG_BASE_URL', description: 'Datadog API base URL for your site' }),
  })
  .prefault({});

const kubernetes = z
  .strictObject({
    mode: z
      .enum(['off', 'in-cluster', 'kubeconfig'])
      .default('off')
      .meta({ env: 'NIGHTSHIFT_KUBERNETES_MODE', description: 'How to reach the Kubernetes API' }),
    kubeconfig: z.string().optional().meta({
      env: 'KUBECONFIG',
      description: 'Kubeconfig path when mode is kubeconfig (default ~/.kube/config)',
    }),
    context: z
      .string()
      .optional()
      .meta({ env: 'NIGHTSHIFT_KUBERNETES_CONTEXT', description: 'Kubeconfig context' }),
  })
  .prefault({});

const prometheus = z
  .strictObject({
    url: z.url().optional().meta({
      env: 'PROMETHEUS_URL',
      description: 'Prometheus HTTP API base; enables Prometheus queries for investigation and verification',
    }),
    errorsQuery: z
      .string()
      .default('sum(rate(http_requests_total{service="$service",code=~"5.."}[5m]))')
      .meta({
        env: 'NIGHTSHIFT_PROMETHEUS_ERRORS_QUERY',
        description: "PromQL for a service's errors per second ($service is replaced); verify reads it",
      }),
    requestsQuery: z.string().default('sum(rate(http_requests_total{service="$service"}[5m]))').meta({
      env: 'NIGHTSHIFT_PROMETHEUS_REQUESTS_QUERY',
      description: "PromQL for a service's requests per second ($service is replaced); verify reads it",
    }),
  })
  .prefault({});

const flags = z
  .strictObject({
    url: z.url().optional().meta({
      env: 'NIGHTSHIFT_FLAGS_URL',
      description: 'Feature-flag provider (HTTP/OpenFeature style) that flags.set talks to; off when unset',
    }),
    token: secret.optional().meta({
      env: 'NIGHTSHIFT_FLAGS_TOKEN',
      secret: true,
      description: 'Bearer token of the flag provider',
    }),
  })
  .prefault({});

const investigate = z
  .strictObject({
    planner: z.enum(['auto', 'rules', 'claude']).default('auto').meta({
      env: 'NIGHTSHIFT_INVESTIGATE_PLANNER',
      description: 'auto: Claude when an Anthropic key is set, else the rules planner',
    }),
    retries: z.number().int().min(0).max(5).default(2).meta({
      env: 'NIGHTSHIFT_INVESTIGATE_RETRIES',
      description:
        'Inconclusive investigations are run again this many times, as evidence accrues, before escalating',
    }),
    retryDelayMs: durationMs(
      'Wait before investigating an inconclusive incident again',
      60_000,
      'NIGHTSHIFT_INVESTIGATE_RETRY_DELAY_MS',
    ),
    queries: z
      .partialRecord(
        z.enum([
          'errors',
          'latency',
          'rps',
          'cpu',
          'memory',
          'restarts',
          'cacheMemory',
          'dbConnections',
          'errorLogs',
        ]),
        z.string().min(1).max(2_000),
      )
      .default({})
      .meta({
        fileOnly: true,
        description:
          "The rules planner's metric and log query templates ($service, $namespace), over the Datadog or Prometheus defaults: {errors?, latency?, rps?, cpu?, memory?, restarts?, cacheMemory?, dbConnections?, errorLogs?}",
      }),
  })
  .prefault({});

const webhooks = z
  .strictObject({
    alertmanagerToken: secret.optional().meta({
      env: 'NIGHTSHIFT_ALERTMANAGER_TOKEN',
      secret: true,
      description: 'Bearer token Alertmanager must send',
    }),
    githubSecret: secret.optional().meta({
      env: 'GITHUB_WEBHOOK_SECRET',
      secret: true,
      description: 'Verifies X-Hub-Signature-256 on GitHub deliveries',
    }),
    datadogSecret: secret.optional().meta({
      env: 'NIGHTSHIFT_DATADOG_WEBHOOK_SECRET',
      secret: true,
      description: 'Shared secret header on Datadog webhooks',
    }),
    pagerdutySecret: secret.optional().meta({
      env: 'PAGERDUTY_WEBHOOK_SECRET',
      secret: true,
      description: 'Verifies X-PagerDuty-Signature on webhooks v3',
    }),
  })
  .prefault({});

const serviceObjectives = z
  .array(
    z.strictObject({
      name: z.string().min(1),
      tier: z.string().min(1).optional(),
      slo: z.strictObject({
        errorRate: z.number().positive().max(1).optional(),
        latencyP99Ms: z.number().positive().optional(),
      }),
    }),
  )
  .default([])
  .meta({
    fileOnly: true,
    description:
      'Service objectives to poll, over those the graph holds: [{name, tier?, slo: {errorRate?, latencyP99Ms?}}]',
  });

const deriveSlos = z
  .strictObject({
    datadog: z.boolean().default(true).meta({
      env: 'NIGHTSHIFT_DATADOG_DERIVE_SLOS',
      description: 'Poll APM error-rate and p99 queries for every service objective when Datadog is enabled',
    }),
    prometheus: z.boolean().default(true).meta({
      env: 'NIGHTSHIFT_PROMETHEUS_DERIVE_SLOS',
      description:
        'Poll the errors ÷ requests queries (integrations.prometheus) for every service objective when PROMETHEUS_URL is set',
    }),
    prometheusLatencyQuery: z.string().min(1).optional().meta({
      env: 'NIGHTSHIFT_PROMETHEUS_LATENCY_P99_QUERY',
      description: "PromQL for a service's p99 latency ($service is replaced); latency objectives need it",
    }),
    prometheusLatencyScale: z.number().positive().default(1).meta({
      env: 'NIGHTSHIFT_PROMETHEUS_LATENCY_SCALE',
      description: 'Multiplies the latency query into milliseconds (1000 for seconds)',
    }),
  })
  .prefault({});

const errorBursts = z
  .strictObject({
    enabled: z.boolean().default(false).meta({
      env: 'NIGHTSHIFT_DATADOG_ERROR_BURSTS_ENABLED',
      description: 'Count error logs per service on Datadog and report bursts, when Datadog is enabled',
    }),
    services: z.array(z.string().min(1)).optional().meta({
      env: 'NIGHTSHIFT_DATADOG_ERROR_BURST_SERVICES',
      description: 'Services whose error logs are counted (default: the services with objectives)',
    }),
    minErrors: z.number().int().min(1).default(10).meta({
      env: 'NIGHTSHIFT_DATADOG_ERROR_BURST_MIN_ERRORS',
      description: 'Errors per minute below which nothing is a burst',
    }),
  })
  .prefault({});

const datadogMonitors = z
  .strictObject({
    enabled: z.boolean().default(false).meta({
      env: 'NIGHTSHIFT_DATADOG_MONITORS_ENABLED',
      description: 'Follow Datadog monitor states (listMonitors) when Datadog is enabled',
    }),
    monitorTags: z.array(z.string().min(1)).optional().meta({
      env: 'NIGHTSHIFT_DATADOG_MONITOR_TAGS',
      description: 'Only monitors with all these monitor tags, e.g. team:payments (default: all)',
    }),
    scopeTags: z.array(z.string().min(1)).optional().meta({
      env: 'NIGHTSHIFT_DATADOG_MONITOR_SCOPE_TAGS',
      description: 'Only monitors whose query scope has these tags, e.g. env:prod (default: all)',
    }),
  })
  .prefault({});

const logPatterns = z
  .strictObject({
    enabled: z.boolean().default(false).meta({
      env: 'NIGHTSHIFT_LOG_PATTERNS_ENABLED',
      description:
        'Mine Datadog logs into templates and report those new after a deploy, when Datadog is enabled',
    }),
    services: z.array(z.string().min(1)).optional().meta({
      env: 'NIGHTSHIFT_LOG_PATTERN_SERVICES',
      description: 'Services whose logs are mined (default: the services with objectives)',
    }),
    query: z.string().min(1).optional().meta({
      env: 'NIGHTSHIFT_LOG_PATTERN_QUERY',
      description: 'Narrows the log search, e.g. -status:debug',
    }),
    deployWindowMs: durationMs(
      'How long after a deploy a new log template is blamed on it',
      1_800_000,
      'NIGHTSHIFT_LOG_PATTERN_DEPLOY_WINDOW_MS',
    ),
    delayMs: durationMs(
      'How late logs arrive in the log pipeline; logs and error bursts read up to this long ago',
      0,
      'NIGHTSHIFT_LOG_DELAY_MS',
    ),
  })
  .prefault({});

const headroom = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      env: 'NIGHTSHIFT_HEADROOM_ENABLED',
      description:
        "Forecast each workload's memory against its limit on Prometheus (else Datadog) and warn before the OOMKill",
    }),
    prometheusQuery: z
      .string()
      .min(1)
      .default(
        'max(container_memory_working_set_bytes{namespace="$namespace",container!="",container!="POD",pod=~"$workload-.*"})',
      )
      .meta({
        env: 'NIGHTSHIFT_HEADROOM_PROMETHEUS_QUERY',
        description: "Memory of a workload's largest container in bytes; $workload, $namespace, $service",
      }),
    datadogQuery: z
      .string()
      .min(1)
      .default('max:kubernetes.memory.usage{kube_namespace:$namespace,pod_name:$workload-*}')
      .meta({
        env: 'NIGHTSHIFT_HEADROOM_DATADOG_QUERY',
        description: 'The same on Datadog, when Prometheus is not configured',
      }),
    ratio: z.number().gt(0).max(1).default(0.9).meta({
      env: 'NIGHTSHIFT_HEADROOM_RATIO',
      description: 'Share of the memory limit the forecast is made against',
    }),
    horizonMs: durationMs(
      'How far ahead a crossing is warned of',
      7_200_000,
      'NIGHTSHIFT_HEADROOM_HORIZON_MS',
    ),
    fitWindowMs: durationMs(
      'How much of the newest memory series the line is fitted over (since the last restart)',
      1_800_000,
      'NIGHTSHIFT_HEADROOM_FIT_WINDOW_MS',
    ),
  })
  .prefault({});

const ingest = z
  .strictObject({
    cluster: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'use a DNS-style name: lowercase letters, digits, . and -')
      .default('default')
      .meta({
        env: 'NIGHTSHIFT_CLUSTER_NAME',
        description: 'Cluster that Kubernetes names in alerts belong to when the alert does not say',
      }),
    dedupeWindowMs: durationMs(
      'Repeats of one fingerprint and status within this window are queued once',
      600_000,
      'NIGHTSHIFT_INGEST_DEDUPE_WINDOW_MS',
    ),
    queueTimeoutMs: durationMs(
      'Longest a webhook waits for Redis to confirm before answering 503',
      3_000,
      'NIGHTSHIFT_INGEST_QUEUE_TIMEOUT_MS',
    ),
    pollIntervalMs: durationMs(
      'How often the git, Prometheus, Datadog and log-pattern pollers run',
      60_000,
      'NIGHTSHIFT_POLL_INTERVAL_MS',
    ),
    gitRepos: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          path: z.string().min(1),
          services: z.array(z.string().min(1)),
          host: z.string().min(1).optional(),
          branch: z.string().min(1).optional(),
        }),
      )
      .default([])
      .meta({
        fileOnly: true,
        description: 'Local clones to follow: [{name: owner/repo, path, services: [...], host?, branch?}]',
      }),
    prometheusSloQueries: z.array(z.record(z.string(), z.unknown())).default([]).meta({
      fileOnly: true,
      description:
        'SLO queries polled on Prometheus: [{service, metric, query, threshold, denominator?, ...}] (docs/ingest.md)',
    }),
    datadogSloQueries: z.array(z.record(z.string(), z.unknown())).default([]).meta({
      fileOnly: true,
      description: 'SLO queries polled on Datadog when integrations.datadog is enabled (docs/ingest.md)',
    }),
    objectives: serviceObjectives,
    deriveSlos,
    errorBursts,
    datadogMonitors,
    logPatterns,
    headroom,
    retryAfterSeconds: z.number().int().min(1).max(3600).default(5).meta({
      env: 'NIGHTSHIFT_INGEST_RETRY_AFTER_S',
      description: 'The Retry-After (seconds) of a 503 while Redis is unavailable',
    }),
  })
  .prefault({});

const policy = z
  .strictObject({
    dir: z.string().default('./policies').meta({
      env: 'NIGHTSHIFT_POLICY_DIR',
      description:
        'Directory of policy files (*.yaml); invalid policies refuse start, a bad reload keeps the last good set',
    }),
    maxMode: z.enum(['deny', 'shadow', 'approval', 'autonomous']).default('autonomous').meta({
      env: 'NIGHTSHIFT_MAX_MODE',
      description: 'Global cap on every decision, e.g. shadow for a first rollout',
    }),
    environment: z.string().default('prod').meta({
      env: 'NIGHTSHIFT_ENVIRONMENT',
      description: 'Environment of action targets whose labels name none (policy facts)',
    }),
    killSwitch: z.boolean().default(false).meta({
      env: 'NIGHTSHIFT_KILL_SWITCH',
      description:
        'Drops every decision to shadow (Slack /nightshift pause and the API set it at run time too)',
    }),
  })
  .prefault({});

const approvals = z
  .strictObject({
    apiToken: secret.optional().meta({
      env: 'NIGHTSHIFT_APPROVALS_API_TOKEN',
      secret: true,
      description: 'Bearer token of POST /api/approvals/:id/approve|reject; the API is off without it',
    }),
    ttlMs: durationMs(
      'How long an approval request waits before it expires into an escalation',
      900_000,
      'NIGHTSHIFT_APPROVAL_TTL_MS',
    ),
    sweepMs: durationMs('How often expired approvals are swept', 5_000, 'NIGHTSHIFT_APPROVAL_SWEEP_MS'),
  })
  .prefault({});

const mcp = z
  .strictObject({
    server: z
      .strictObject({
        token: secret.optional().meta({
          env: 'NIGHTSHIFT_MCP_TOKEN',
          secret: true,
          description:
            'Bearer token of the MCP endpoint at /mcp (16+ characters); the endpoint is off without it',
        }),
        allowedOrigins: z.array(z.string()).default([]).meta({
          env: 'NIGHTSHIFT_MCP_ALLOWED_ORIGINS',
          description: 'Browser origins allowed to call /mcp (none by default)',
        }),
      })
      .prefault({}),
    clients: z.array(z.record(z.string(), z.unknown())).default([]).meta({
      fileOnly: true,
      description:
        'External MCP servers whose allowlisted, read-only tools become investigation tools (see docs/mcp.md)',
    }),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    dataDir: z.string().default('./.nightshift').meta({
      env: 'NIGHTSHIFT_DATA_DIR',
      description: 'Where the embedded graph, audit log and other state live',
    }),
    server,
    log,
    redis,
    graph,
    loop,
    shutdown,
    integrations: z
      .strictObject({ anthropic, slack, pagerduty, datadog, kubernetes, prometheus, flags })
      .prefault({}),
    investigate,
    webhooks,
    ingest,
    policy,
    approvals,
    mcp,
  })
  .superRefine((config, context) => {
    const require = (
      enabled: boolean,
      value: unknown,
      path: string[],
      env: string,
      switchHint: string,
    ): void => {
      if (enabled && value === undefined) {
        context.addIssue({
          code: 'custom',
          path,
          message: `required when ${switchHint}; set ${env} (or ${env}_FILE) or turn it off`,
        });
      }
    };
    const { slack, pagerduty, datadog } = config.integrations;
    require(slack.enabled, slack.botToken, [
      'integrations',
      'slack',
      'botToken',
    ], 'SLACK_BOT_TOKEN', 'integrations.slack.enabled is true');
    require(slack.enabled, slack.signingSecret, [
      'integrations',
      'slack',
      'signingSecret',
    ], 'SLACK_SIGNING_SECRET', 'integrations.slack.enabled is true');
    require(pagerduty.enabled, pagerduty.routingKey, [
      'integrations',
      'pagerduty',
      'routingKey',
    ], 'PAGERDUTY_ROUTING_KEY', 'integrations.pagerduty.enabled is true');
    require(datadog.enabled, datadog.apiKey, [
      'integrations',
      'datadog',
      'apiKey',
    ], 'DD_API_KEY', 'integrations.datadog.enabled is true');
    require(datadog.enabled, datadog.appKey, [
      'integrations',
      'datadog',
      'appKey',
    ], 'DD_APP_KEY', 'integrations.datadog.enabled is true');
    if (config.graph.backend === 'neo4j' && config.graph.neo4j.uri === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['graph', 'neo4j', 'uri'],
        message: 'required when graph.backend is neo4j; set NEO4J_URI or use graph.backend=embedded',
      });
    }
  });

/** The validated configuration every component receives. */
export type Config = z.output<typeof configSchema>;
/** What a YAML file or the environment may provide before defaults apply. */
export type ConfigInput = z.input<typeof configSchema>;
