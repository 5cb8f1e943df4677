import { cloneJson } from './kube-object.js';
import { KubeApiError, badRequest } from './kube-errors.js';

/** The patch types the Kubernetes API accepts (server-side apply aside). */
export type PatchType = 'json' | 'merge' | 'strategic';

/** The patch type of a Content-Type header, or undefined for anything else. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/json-patch+json') return 'json';
  if (media === 'application/merge-patch+json') return 'merge';
  if (media === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

type Json = unknown;
type JsonObject = Record<string, unknown>;

function isObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function goType(value: Json): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value === 'boolean' ? 'bool' : typeof value;
}

// ---- RFC 6902 JSON patch ------------------------------------------------------------------

function unprocessable(message: string): KubeApiError {
  return new KubeApiError(422, 'Invalid', message);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw unprocessable(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(
  document: Json,
  parts: string[],
  op: string,
  path: string,
): { parent: JsonObject | Json[]; key: string } {
  let current: Json = document;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = current[part];
    else current = undefined;
    if (current === undefined || current === null)
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(current) && !isObject(current))
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  return { parent: current, key: parts[parts.length - 1] ?? '' };
}

function arrayIndex(key: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && key === '-') return length;
  if (!/^\d+$/.test(key)) throw unprocessable(`invalid array index "${key}" in "${path}"`);
  const index = Number(key);
  if (index > length || (!allowEnd && index >= length))
    throw unprocessable(`index out of bounds in "${path}"`);
  return index;
}

function getAt(document: Json, path: string, op: string): Json {
  let current: Json = document;
  for (const part of pointer(path)) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = current[part];
    else current = undefined;
    if (current === undefined)
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return current;
}

function addAt(document: Json, path: string, value: Json): Json {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(document, parts, 'add', path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true, path), 0, value);
  else parent[key] = value;
  return document;
}

function removeAt(document: Json, path: string, op = 'remove'): Json {
  const parts = pointer(path);
  const { parent, key } = parentOf(document, parts, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, false, path), 1);
  else {
    if (!(key in parent))
      throw unprocessable(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
    delete parent[key];
  }
  return document;
}

function isOperation(value: Json): value is { op: string; path: string; value?: Json; from?: string } {
  return isObject(value) && typeof value.op === 'string' && typeof value.path === 'string';
}

/** Applies an RFC 6902 patch; the body must be a JSON array (else 400, as the API server). */
export function applyJsonPatch(document: Json, patch: Json): Json {
  if (!Array.isArray(patch))
    throw badRequest(`json: cannot unmarshal ${goType(patch)} into Go value of type jsonpatch.Patch`);
  let result = cloneJson(document);
  for (const operation of patch) {
    if (!isOperation(operation))
      throw badRequest('json: cannot unmarshal the patch: every operation needs "op" and "path"');
    const { op, path } = operation;
    switch (op) {
      case 'add':
        result = addAt(result, path, cloneJson(operation.value));
        break;
      case 'remove':
        result = removeAt(result, path);
        break;
      case 'replace':
        getAt(result, path, 'replace');
        result =
          pointer(path).length === 0
            ? cloneJson(operation.value)
            : addAt(removeAt(result, path, 'replace'), path, cloneJson(operation.value));
        break;
      case 'move': {
        const value = getAt(result, operation.from ?? '', 'move');
        result = addAt(removeAt(result, operation.from ?? '', 'move'), path, value);
        break;
      }
      case 'copy':
        result = addAt(result, path, cloneJson(getAt(result, operation.from ?? '', 'copy')));
        break;
      case 'test':
        if (JSON.stringify(getAt(result, path, 'test')) !== JSON.stringify(operation.value))
          throw unprocessable(`testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return result;
}

// ---- RFC 7386 merge patch -----------------------------------------------------------------

function mergeValue(target: Json, patch: Json): Json {
  if (!isObject(patch)) return cloneJson(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeValue(result[key], value);
  }
  return result;
}

/** Applies an RFC 7386 merge patch; the body must be a JSON object (an array would replace the object). */
export function applyMergePatch(document: Json, patch: Json): Json {
  if (!isObject(patch))
    throw badRequest(`json: cannot unmarshal ${goType(patch)} into Go value of type map[string]interface {}`);
  return mergeValue(document, patch);
}

// ---- strategic merge patch ----------------------------------------------------------------

const MERGE_KEYS: Record<string, string | ((item: JsonObject) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
};

const PRIMITIVE_MERGE_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  const rule = MERGE_KEYS[field];
  if (rule === undefined) return undefined;
  if (typeof rule === 'string') return rule;
  const sample = items.find(isObject);
  return sample ? rule(sample) : undefined;
}

function strategicList(field: string, target: Json, patch: Json[]): Json {
  const current: Json[] = Array.isArray(target) ? (target as Json[]) : [];
  if (PRIMITIVE_MERGE_LISTS.has(field)) return [...new Set([...current, ...patch])];
  const key = mergeKeyFor(field, [...patch, ...current]);
  if (!key)
    return patch
      .filter((item) => !(isObject(item) && item.$patch === 'replace'))
      .map((item) => cloneJson(item));
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch
      .filter((item) => !(isObject(item) && item.$patch === 'replace'))
      .map((item) => cloneJson(item));
  }
  const result = current.map((item) => cloneJson(item));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index !== -1) result.splice(index, 1);
    } else if (index === -1) {
      result.push(strategicValue(undefined, item));
    } else {
      result[index] = strategicValue(result[index], item);
    }
  }
  return result;
}

function strategicValue(target: Json, patch: Json): Json {
  if (!isObject(patch)) return cloneJson(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return cloneJson(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key === '$patch' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const list = result[field];
      if (Array.isArray(list) && Array.isArray(value))
        result[field] = list.filter((item) => !value.includes(item));
      continue;
    }
    if (value === null) delete result[key];
    else if (Array.isArray(value)) result[key] = strategicList(key, result[key], value);
    else {
      const merged = strategicValue(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  if (retain) for (const key of Object.keys(result)) if (!retain.has(key)) delete result[key];
  return result;
}

/**
 * Applies a strategic merge patch: maps merge, `null` deletes, lists with a known merge key
 * (containers by name, ports by containerPort, conditions by type, …) merge item by item,
 * other lists replace; `$patch: replace|delete`, `$retainKeys`, `$deleteFromPrimitiveList`
 * are honoured and `$setElementOrder` ignored. The body must be a JSON object.
 */
export function applyStrategicPatch(document: Json, patch: Json): Json {
  if (!isObject(patch))
    throw badRequest(`json: cannot unmarshal ${goType(patch)} into Go value of type map[string]interface {}`);
  return strategicValue(document, patch);
}

/** Applies a patch of the given type. */
export function applyPatch(document: Json, patch: Json, type: PatchType): Json {
  if (type === 'json') return applyJsonPatch(document, patch);
  if (type === 'merge') return applyMergePatch(document, patch);
  return applyStrategicPatch(document, patch);
}
