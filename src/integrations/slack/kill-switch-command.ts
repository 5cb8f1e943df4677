import type { App } from '@slack/bolt';
import type { Logger } from '../../shared/logger.js';
import type { ApproverDirectory } from './approvers.js';
import { escapeText, mention } from './messages.js';

/** A parsed `/nightshift …` command. */
export type KillSwitchCommand =
  { action: 'pause' | 'resume'; reason?: string } | { action: 'usage'; problem?: string };

/** The help text shown for anything the command does not understand. */
export const KILL_SWITCH_USAGE =
  'Usage: `/nightshift pause [reason]` stops every automated action; `/nightshift resume` allows them again.';

/** Parses the text after the command name; never throws. */
export function parseKillSwitchCommand(text: string): KillSwitchCommand {
  const [verb = '', ...rest] = text.trim().split(/\s+/);
  const reason = rest.join(' ').trim().slice(0, 500);
  switch (verb.toLowerCase()) {
    case 'pause':
      return { action: 'pause', ...(reason ? { reason } : {}) };
    case 'resume':
      return { action: 'resume', ...(reason ? { reason } : {}) };
    case '':
    case 'help':
      return { action: 'usage' };
    default:
      return { action: 'usage', problem: `unknown subcommand "${verb.slice(0, 40)}"` };
  }
}

/** A kill switch request from the slash command. */
export interface KillSwitchRequest {
  action: 'pause' | 'resume';
  /** Slack user id. */
  by: string;
  reason?: string;
}

/** What the command listener needs. */
export interface KillSwitchCommandOptions {
  /** Default `/nightshift`. */
  command?: string;
  /** Users and groups allowed to use it. Absent: everyone in the workspace. */
  allowed?: readonly string[];
  directory: ApproverDirectory;
  logger: Logger;
  onKillSwitch?: (request: KillSwitchRequest) => void | Promise<void>;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `/nightshift pause [reason]` and `/nightshift resume`: checks who asks, calls `onKillSwitch`,
 * and answers in the channel (so everyone sees the switch moved) or, on refusal or failure,
 * to the asker alone.
 */
export function registerKillSwitchCommand(bolt: App, options: KillSwitchCommandOptions): void {
  const { logger } = options;
  bolt.command(options.command ?? '/nightshift', async ({ ack, command }) => {
    const parsed = parseKillSwitchCommand(command.text);
    if (parsed.action === 'usage') {
      await ack({
        response_type: 'ephemeral',
        text: `${parsed.problem ? `${parsed.problem}. ` : ''}${KILL_SWITCH_USAGE}`,
      });
      return;
    }
    const user = command.user_id;
    if (options.allowed && !(await options.directory.isApprover(user, options.allowed))) {
      logger.warn({ user, action: parsed.action }, 'kill switch command from a user who may not use it');
      await ack({ response_type: 'ephemeral', text: `You may not ${parsed.action} nightshift.` });
      return;
    }
    if (!options.onKillSwitch) {
      await ack({ response_type: 'ephemeral', text: 'The kill switch is not connected on this nightshift.' });
      return;
    }
    try {
      await options.onKillSwitch({
        action: parsed.action,
        by: user,
        ...(parsed.reason ? { reason: parsed.reason } : {}),
      });
    } catch (error) {
      logger.error({ err: describeError(error), action: parsed.action }, 'kill switch failed');
      await ack({
        response_type: 'ephemeral',
        text: `Could not ${parsed.action} nightshift: ${describeError(error)}`,
      });
      return;
    }
    logger.warn({ user, action: parsed.action, reason: parsed.reason }, 'kill switch used');
    const verb =
      parsed.action === 'pause' ? ':octagonal_sign: nightshift paused' : ':arrow_forward: nightshift resumed';
    await ack({
      response_type: 'in_channel',
      text: `${verb} by ${mention(user)}${parsed.reason ? `: ${escapeText(parsed.reason)}` : ''}.`,
    });
  });
}
