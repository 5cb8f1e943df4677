import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { settings } from '../../src/config/settings.js';
import { ChartRenderer } from './go-template.js';

/** The chart's directory. */
export const CHART_DIR = fileURLToPath(new URL('../../helm/nightshift/', import.meta.url));

/** One Kubernetes object from the rendered chart. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export type Values = Record<string, unknown>;

function readChartFile(path: string): string {
  return readFileSync(`${CHART_DIR}${path}`, 'utf8');
}

let shippedValues: Values | undefined;
let shippedChart: Record<string, unknown> | undefined;

/** values.yaml as shipped (a fresh copy each call). */
export function defaultValues(): Values {
  shippedValues ??= parse(readChartFile('values.yaml')) as Values;
  return structuredClone(shippedValues);
}

/** Chart.yaml as shipped. */
export function chartMetadata(): Record<string, unknown> {
  shippedChart ??= parse(readChartFile('Chart.yaml')) as Record<string, unknown>;
  return structuredClone(shippedChart);
}

/** values.schema.json as shipped. */
export function valuesSchema(): Record<string, unknown> {
  return JSON.parse(readChartFile('values.schema.json')) as Record<string, unknown>;
}

/** Helm's merge of user values over the defaults: maps merge deeply, `null` deletes a key. */
export function mergeValues(base: Values, overrides: Values): Values {
  const merged: Values = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    if (value === null) delete merged[key];
    else if (isMap(value) && isMap(current)) merged[key] = mergeValues(current, value);
    else merged[key] = value;
  }
  return merged;
}

function isMap(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

let validator: ValidateFunction | undefined;

/** Validates values as Helm does before rendering; returns one `path: message` line per problem. */
export function validateValues(values: Values): string[] {
  validator ??= new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false }).compile(
    valuesSchema(),
  );
  const validate = validator;
  if (validate(values)) return [];
  return (validate.errors ?? []).map(describeSchemaError);
}

function describeSchemaError(error: ErrorObject): string {
  const path = error.instancePath.split('/').filter(Boolean).join('.') || '(root)';
  if (error.keyword === 'false schema') {
    const secret = settings().some((setting) => setting.secret && `config.${setting.key}` === path);
    return secret
      ? `${path}: is a secret; put it in the Secret named by secrets.existingSecret`
      : `${path}: is set by the chart; remove it from the values`;
  }
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (Array.isArray(params.allowedValues)) detail = ` (${params.allowedValues.join(', ')})`;
  else if (params.allowedValue !== undefined) detail = ` (${JSON.stringify(params.allowedValue)})`;
  else if (typeof params.additionalProperty === 'string') detail = ` (${params.additionalProperty})`;
  else if (typeof params.propertyName === 'string') detail = ` (${params.propertyName})`;
  return `${path}: ${error.message ?? 'is invalid'}${detail}`;
}

let renderer: ChartRenderer | undefined;

function chartRenderer(): ChartRenderer {
  if (!renderer) {
    const templates = new Map<string, string>();
    for (const file of readdirSync(`${CHART_DIR}templates`)) {
      if (/\.(ya?ml|tpl|txt)$/.test(file)) templates.set(file, readChartFile(`templates/${file}`));
    }
    renderer = new ChartRenderer(templates, 'nightshift/templates');
  }
  return renderer;
}

/** The template files Helm turns into manifests (not helpers, not NOTES.txt). */
export function manifestTemplates(): string[] {
  return readdirSync(`${CHART_DIR}templates`)
    .filter((file) => /\.ya?ml$/.test(file) && !file.startsWith('_'))
    .sort();
}

function root(values: Values): Record<string, unknown> {
  const chart = chartMetadata();
  return {
    Values: values,
    Release: { Name: 'nightshift', Namespace: 'sre', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Capabilities: {},
  };
}

/** The text one template renders to with the defaults plus `overrides`. */
export function renderText(file: string, overrides: Values = {}): string {
  return chartRenderer().render(file, root(mergeValues(defaultValues(), overrides)));
}

/**
 * Every manifest the chart renders with the defaults plus `overrides`, like `helm template`.
 * Throws when a template does not render or its output is not valid YAML.
 */
export function renderChart(overrides: Values = {}): Map<string, Manifest[]> {
  const out = new Map<string, Manifest[]>();
  const data = root(mergeValues(defaultValues(), overrides));
  for (const file of manifestTemplates()) {
    const text = chartRenderer().render(file, data);
    const manifests: Manifest[] = [];
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}\n${text}`);
      }
      const value = document.toJS() as Manifest | null;
      if (value !== null) manifests.push(value);
    }
    out.set(file, manifests);
  }
  return out;
}

/** All rendered manifests, flattened. */
export function renderManifests(overrides: Values = {}): Manifest[] {
  return [...renderChart(overrides).values()].flat();
}

/** The one manifest of a kind (and name suffix, when several share the kind). */
export function findManifest<T extends Manifest = Manifest>(
  manifests: readonly Manifest[],
  kind: string,
  nameSuffix = '',
): T {
  const found = manifests.filter(
    (manifest) => manifest.kind === kind && manifest.metadata.name.endsWith(nameSuffix),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${kind} ending "${nameSuffix}", found ${found.length}`);
  return found[0] as T;
}
