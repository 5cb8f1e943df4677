import { cordonNodeAction } from './actions/cordon-node.js';
import { deletePodAction } from './actions/delete-pod.js';
import { flagsSetAction } from './actions/flags-set.js';
import { rollbackAction } from './actions/rollback.js';
import { rolloutRestartAction } from './actions/rollout-restart.js';
import { scaleAction } from './actions/scale.js';
import { ACTION_KINDS, type ActionDefinition, type ActionKind } from './types.js';

/**
 * The fixed action catalog: the only writes nightshift can make. Text from logs, Slack or
 * model output never adds to it; a proposal names one of these kinds and typed parameters.
 */
export const ACTION_CATALOG: Readonly<Record<ActionKind, ActionDefinition<never>>> = {
  'k8s.rollback': rollbackAction as ActionDefinition<never>,
  'k8s.rolloutRestart': rolloutRestartAction as ActionDefinition<never>,
  'k8s.scale': scaleAction as ActionDefinition<never>,
  'k8s.deletePod': deletePodAction as ActionDefinition<never>,
  'k8s.cordonNode': cordonNodeAction as ActionDefinition<never>,
  'flags.set': flagsSetAction as ActionDefinition<never>,
};

/** True for a kind the catalog has. */
export function isActionKind(kind: string): kind is ActionKind {
  return (ACTION_KINDS as readonly string[]).includes(kind);
}

/** The catalog entry for a kind, typed loosely for the executor (params are validated by its schema). */
export function actionDefinition(kind: ActionKind): ActionDefinition<Record<string, unknown>> {
  return ACTION_CATALOG[kind];
}
