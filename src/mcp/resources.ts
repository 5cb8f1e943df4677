import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isPolicyFileName } from '../policy/load.js';
import { NightshiftError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { describeIncident } from './incident-tools.js';
import type { IncidentDetail, IncidentReader } from './types.js';

/** How many incident reports `resources/list` offers; older ones are still readable by URI. */
const LISTED_REPORTS = 50;

/** The URI of an incident's report. */
export function incidentReportUri(id: string): string {
  return `nightshift://incidents/${encodeURIComponent(id)}/report`;
}

/** The URI of a policy file. */
export function policyUri(file: string): string {
  return `nightshift://policies/${encodeURIComponent(file)}`;
}

function variable(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The report as Markdown: the written report when there is one, else one rendered from the detail. */
export function renderReport(detail: IncidentDetail): string {
  if (detail.report) return detail.report;
  const lines = [
    `# ${detail.title}`,
    '',
    `- id: ${detail.id}`,
    `- state: ${detail.state}`,
    `- severity: ${detail.severity}`,
    `- opened: ${new Date(detail.openedAt).toISOString()}`,
    '',
    'No investigation report has been written yet. What is known so far:',
    '',
    '```json',
    JSON.stringify(describeIncident(detail), null, 2),
    '```',
  ];
  return `${lines.join('\n')}\n`;
}

class ResourceNotFound extends NightshiftError {
  constructor(message: string) {
    super('resource_not_found', message);
  }
}

/**
 * Registers the resources: incident reports (`nightshift://incidents/{id}/report`, Markdown)
 * and, when `policiesDir` is given, the policy files (`nightshift://policies/{file}`, YAML).
 */
export function registerResources(
  server: McpServer,
  dependencies: { incidents: IncidentReader; policiesDir?: string; logger: Logger },
): void {
  const { incidents, policiesDir } = dependencies;

  server.registerResource(
    'incident-report',
    new ResourceTemplate('nightshift://incidents/{id}/report', {
      list: async () => {
        const list = await incidents.list({ limit: LISTED_REPORTS });
        return {
          resources: list.map((incident) => ({
            uri: incidentReportUri(incident.id),
            name: `${incident.id}: ${incident.title}`,
            description: `${incident.severity} incident, ${incident.state}`,
            mimeType: 'text/markdown',
          })),
        };
      },
    }),
    {
      title: 'Incident report',
      description: 'The investigation report of an incident, in Markdown',
      mimeType: 'text/markdown',
    },
    async (uri, variables) => {
      const id = variable(variables.id);
      const detail = await incidents.get(id);
      if (!detail) throw new ResourceNotFound(`no incident "${id}"`);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: renderReport(detail) }] };
    },
  );

  if (policiesDir === undefined) return;
  const policyFiles = async (): Promise<string[]> => {
    const entries = await readdir(policiesDir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && isPolicyFileName(entry.name))
      .map((entry) => entry.name)
      .sort();
  };

  server.registerResource(
    'policy',
    new ResourceTemplate('nightshift://policies/{file}', {
      list: async () => ({
        resources: (await policyFiles()).map((file) => ({
          uri: policyUri(file),
          name: file,
          description: 'A policy file: which actions nightshift may take, and how',
          mimeType: 'application/yaml',
        })),
      }),
    }),
    {
      title: 'Policy file',
      description: 'A policy file deciding which actions nightshift may take, in YAML',
      mimeType: 'application/yaml',
    },
    async (uri, variables) => {
      const file = variable(variables.file);
      // Only a plain file name that the directory lists: no path may escape the policy directory.
      if (file !== basename(file) || !(await policyFiles()).includes(file)) {
        throw new ResourceNotFound(`no policy file "${file}"`);
      }
      const text = await readFile(join(policiesDir, file), 'utf8');
      return { contents: [{ uri: uri.href, mimeType: 'application/yaml', text }] };
    },
  );
}
