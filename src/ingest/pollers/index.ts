export { applyGraphWrites, emptyWrites, finishSignals, mergeWrites, polledRaw } from './poller.js';
export type { GraphWrites, JsonValue, PollContext, Poller, PollResult } from './poller.js';
export { MemoryPollStateStore, RedisPollStateStore, type PollStateStore } from './poll-state-store.js';
export { POLL_QUEUE, pollJobSchema, pollerStage, runPoll, schedulePollers } from './run-poll.js';
export type { PollJob, PollRunDependencies, PollRunReport, PollSchedule } from './run-poll.js';
export { serviceDeploys, imageTag, type DeployRecord } from './deploys.js';
export { gitPoller, type GitPollerOptions, type GitRepoConfig } from './git/git-poller.js';
export { datadogConfiguration, type DatadogApiOptions } from './datadog/datadog-api.js';
export { datadogPoller, type DatadogPollerOptions } from './datadog/datadog-poller.js';
export type { ErrorBurstOptions } from './datadog/error-bursts.js';
export {
  prometheusPoller,
  prometheusSloTemplates,
  SIM_PROMETHEUS_TEMPLATES,
  type PrometheusPollerOptions,
} from './prometheus/prometheus-poller.js';
export {
  DATADOG_APM_TEMPLATES,
  deriveSloQueries,
  parseSloQueries,
  sloQuerySchema,
  type ServiceObjectives,
  type SloQueryInput,
  type SloTemplates,
} from './metrics/slo-query.js';
export { logPatternPoller, type LogPatternPollerOptions } from './logs/log-pattern-poller.js';
export { datadogLogSource, type LogSource } from './logs/log-source.js';
export {
  slackMentionsPoller,
  slackMentionWrites,
  slackPermalink,
  type SlackMentionOptions,
  type SlackMessageFeed,
} from './slack/slack-mentions.js';
export { redisSlackMessageLog, type SlackMessageLog } from './slack/message-feed.js';
export {
  createPollers,
  type BuiltPollers,
  type PollerResources,
  type PollerSettings,
} from './build-pollers.js';
export type { MonitorOptions } from './datadog/monitors.js';
export {
  combineSloQueries,
  graphObjectives,
  graphObjectivesLookup,
  mergeObjectives,
  OBJECTIVE_PROPERTIES,
  type ObjectivesSource,
  type PerPoll,
} from './objectives.js';
