import type { Analyzer } from './analyzer.js';
import { timeOf } from './api-object.js';
import type { AnalysisContext } from './context.js';
import { createFinding, type Finding, type Severity } from './finding.js';
import { referenceTo } from './owner.js';

interface ConditionRule {
  type: string;
  /** The condition statuses that mean trouble. */
  bad: readonly string[];
  kind: string;
  severity: Severity;
}

const rules: readonly ConditionRule[] = [
  { type: 'Ready', bad: ['False', 'Unknown'], kind: 'NodeNotReady', severity: 'critical' },
  { type: 'MemoryPressure', bad: ['True'], kind: 'NodeMemoryPressure', severity: 'warning' },
  { type: 'DiskPressure', bad: ['True'], kind: 'NodeDiskPressure', severity: 'warning' },
  { type: 'PIDPressure', bad: ['True'], kind: 'NodePIDPressure', severity: 'warning' },
  { type: 'NetworkUnavailable', bad: ['True'], kind: 'NodeNetworkUnavailable', severity: 'warning' },
];

/**
 * Node conditions that mean trouble: `Ready` False or Unknown (`NodeNotReady`, critical: its pods
 * are at risk), and `MemoryPressure`, `DiskPressure`, `PIDPressure`, `NetworkUnavailable` True
 * (warning). One finding per node and condition; `reason` is the condition's reason
 * (`KubeletHasInsufficientMemory`, `NodeStatusUnknown`, ...); evidence has the status, message,
 * since when, the node's taints and whether it is cordoned.
 */
export const nodeConditionAnalyzer: Analyzer = {
  name: 'node-condition',
  analyze(context: AnalysisContext): Finding[] {
    const findings: Finding[] = [];
    for (const node of context.snapshot.nodes ?? []) {
      const object = referenceTo('Node', node);
      if (!object) continue;
      for (const rule of rules) {
        const condition = node.status?.conditions?.find((candidate) => candidate.type === rule.type);
        if (!condition?.status || !rule.bad.includes(condition.status)) continue;
        findings.push(
          createFinding({
            analyzer: 'node-condition',
            kind: rule.kind,
            severity: rule.severity,
            object,
            reason: condition.reason,
            message: `Node ${object.name}: ${rule.type}=${condition.status}${condition.message ? ` (${condition.message})` : ''}`,
            evidence: {
              condition: rule.type,
              status: condition.status,
              message: condition.message,
              since: timeOf(condition.lastTransitionTime),
              lastHeartbeat: timeOf(condition.lastHeartbeatTime),
              taints: (node.spec?.taints ?? []).map((taint) => ({ key: taint.key, effect: taint.effect })),
              unschedulable: node.spec?.unschedulable === true,
            },
          }),
        );
      }
    }
    return findings;
  },
};
