import { badRequest } from '../world/kube-errors.js';
import { readPath, type KubeObject } from '../world/kube-object.js';

/** One requirement of a label selector. */
export interface LabelRequirement {
  key: string;
  operator: 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists';
  values: string[];
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current.trim()) parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** Parses a label selector (`app=web,tier!=db,env in (prod,staging),!legacy`); 400 when malformed. */
export function parseLabelSelector(text: string | null | undefined): LabelRequirement[] {
  if (!text) return [];
  return splitTopLevel(text).map((part) => {
    let match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (match) {
      const values = (match[3] ?? '')
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean);
      return { key: match[1] ?? '', operator: match[2] === 'in' ? 'in' : 'notin', values };
    }
    match = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (match)
      return { key: match[1] ?? '', operator: match[2] === '!=' ? 'neq' : 'eq', values: [match[3] ?? ''] };
    match = /^(!?)([\w./-]+)$/.exec(part);
    if (match) return { key: match[2] ?? '', operator: match[1] ? 'notexists' : 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

/** True when labels satisfy every requirement. */
export function matchesLabels(
  labels: Record<string, string> | undefined,
  requirements: readonly LabelRequirement[],
): boolean {
  return requirements.every(({ key, operator, values }) => {
    const value = labels?.[key];
    switch (operator) {
      case 'eq':
        return value === values[0];
      case 'neq':
        return value !== values[0];
      case 'in':
        return value !== undefined && values.includes(value);
      case 'notin':
        return value === undefined || !values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
    }
    return false;
  });
}

/** One requirement of a field selector. */
export interface FieldRequirement {
  path: string;
  equal: boolean;
  value: string;
}

/** Parses a field selector (`involvedObject.name=web-1,status.phase!=Running`). */
export function parseFieldSelector(text: string | null | undefined): FieldRequirement[] {
  if (!text) return [];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
      if (!match) throw badRequest(`invalid selector: '${part}'; can't understand '${part}'`);
      return { path: match[1] ?? '', equal: match[2] !== '!=', value: match[3] ?? '' };
    });
}

function fieldValue(object: KubeObject, path: string): string {
  const value = readPath(object, path);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** True when the object's fields satisfy every requirement (a missing field reads as ""). */
export function matchesFields(object: KubeObject, requirements: readonly FieldRequirement[]): boolean {
  return requirements.every(({ path, equal, value }) => (fieldValue(object, path) === value) === equal);
}
