import type * as k8s from '@kubernetes/client-node';
import type { GraphStore } from '../../graph/store.js';
import { createDatadogTools, type DatadogToolsOptions } from './datadog.js';
import { createGitTools, type GitToolsOptions } from './git.js';
import { createGraphTools } from './graph.js';
import { createKubernetesTools } from './kubernetes.js';
import { createPrometheusTools, type PrometheusToolsOptions } from './prometheus.js';
import { createToolSet, type ReadOnlyTool, type ToolSet, type ToolSetOptions } from './tool.js';

/** Which integrations the investigator may read from; each is optional except the graph. */
export interface InvestigationToolsOptions extends ToolSetOptions {
  graph: GraphStore;
  kubernetes?: { kubeConfig: k8s.KubeConfig; defaultNamespace?: string };
  datadog?: DatadogToolsOptions;
  prometheus?: PrometheusToolsOptions;
  git?: GitToolsOptions;
  /**
   * More read-only tools (e.g. from MCP servers). Each must declare `readOnly: true` and a zod
   * input schema; `createToolSet` refuses anything else, so no write can slip in here.
   */
  extraTools?: readonly ReadOnlyTool[];
}

/** Builds the investigator's ToolSet from what is configured. Throws ValidationError for a bad extra tool. */
export function createInvestigationTools(options: InvestigationToolsOptions): ToolSet {
  return createToolSet(
    [
      ...createGraphTools(options.graph),
      ...(options.kubernetes ? createKubernetesTools(options.kubernetes) : []),
      ...(options.datadog ? createDatadogTools(options.datadog) : []),
      ...(options.prometheus ? createPrometheusTools(options.prometheus) : []),
      ...(options.git ? createGitTools(options.git) : []),
      ...(options.extraTools ?? []),
    ],
    options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {},
  );
}

export {
  createDatadogTools,
  createGitTools,
  createGraphTools,
  createKubernetesTools,
  createPrometheusTools,
  createToolSet,
};
export type { ReadOnlyTool, ToolSet };
export { defineTool, type ToolResult, type ToolRunContext, type ToolCallRecord } from './tool.js';
