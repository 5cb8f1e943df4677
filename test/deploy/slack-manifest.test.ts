import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface SlackManifest {
  display_information: { name: string };
  features: {
    bot_user: { display_name: string };
    slash_commands: { command: string; url: string }[];
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(
  readFileSync(new URL('../../deploy/slack-app-manifest.yaml', import.meta.url), 'utf8'),
) as SlackManifest;

/** Where each kind of request goes; slash commands share Bolt's events endpoint. */
const PATHS = { events: '/slack/events', interactions: '/slack/interactions', commands: '/slack/events' };

/** The paths the Slack integration mounts on the daemon's HTTP server. */
const MOUNTED = new Set(
  [
    ...readFileSync(new URL('../../src/integrations/slack/app.ts', import.meta.url), 'utf8').matchAll(
      /app\.post\('(\/slack\/[^']+)'/g,
    ),
  ].map((match) => match[1]),
);

/** The scope each subscribed event needs. */
const EVENT_SCOPES: Record<string, string> = {
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
};

describe('the Slack app manifest', () => {
  it('asks for exactly the scopes nightshift uses, and no user scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'channels:history',
      'chat:write',
      'commands',
      'groups:history',
      'usergroups:read',
    ]);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it('subscribes to channel messages, each event backed by its scope', () => {
    const events = manifest.settings.event_subscriptions.bot_events;
    expect(events).toContain('message.channels');
    for (const event of events) {
      expect(EVENT_SCOPES[event], `${event} is a known event`).toBeDefined();
      expect(manifest.oauth_config.scopes.bot).toContain(EVENT_SCOPES[event]);
    }
  });

  it('sends events, interactions and the slash command to the daemon’s endpoints on one host', () => {
    const events = new URL(manifest.settings.event_subscriptions.request_url);
    const interactions = new URL(manifest.settings.interactivity.request_url);
    const command = manifest.features.slash_commands.find((entry) => entry.command === '/nightshift');
    expect(command).toBeDefined();
    const commands = new URL(command?.url ?? '');
    expect(events.pathname).toBe(PATHS.events);
    expect(interactions.pathname).toBe(PATHS.interactions);
    expect(commands.pathname).toBe(PATHS.commands);
    for (const path of Object.values(PATHS)) expect(MOUNTED, `${path} is served`).toContain(path);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    for (const url of [events, interactions, commands]) {
      expect(url.protocol).toBe('https:');
      expect(url.host).toBe(events.host);
    }
  });
});
