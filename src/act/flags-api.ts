import { NightshiftError, SystemError } from '../shared/errors.js';

/** A flag value as providers serve it. */
export type FlagValue = boolean | string | number;

/**
 * A feature-flag provider the `flags.set` action reads and writes. Methods reject with a
 * `NightshiftError` (`retryable` for timeouts, 429 and 5xx, lost connections; `data.status`
 * is the HTTP status when the provider answered).
 */
export interface FlagsApi {
  /** The flag's current value; rejects with code `flag_not_found` for an unknown key. */
  read(key: string): Promise<FlagValue>;
  /** Sets the flag; `actor` is recorded by providers that keep history. */
  write(key: string, value: FlagValue, actor: string): Promise<FlagValue>;
}

/** Where the provider is and how to reach it. */
export interface HttpFlagsOptions {
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function isFlagValue(value: unknown): value is FlagValue {
  return typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number';
}

/**
 * A flag provider over HTTP: `GET {url}/flags/{key}` → `{key, value}`, `PUT {url}/flags/{key}`
 * with `{"value", "actor"}`; when the read path answers 404 or 405 it falls back to the
 * OpenFeature remote evaluation protocol (`POST {url}/ofrep/v1/evaluate/flags/{key}`), so a
 * read-only OFREP provider still works for plans and shadow suggestions.
 */
export function createHttpFlagsApi(options: HttpFlagsOptions): FlagsApi {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const headers = (json: boolean): Record<string, string> => ({
    accept: 'application/json',
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  });
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> => {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: headers(body !== undefined),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new SystemError('flags_unreachable', `flag provider ${method} ${path} failed: ${String(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, json };
  };
  const fail = (what: string, status: number, json: unknown): NightshiftError => {
    const detail = (json as { error?: unknown; errorDetails?: unknown } | undefined) ?? {};
    const text = detail.error ?? detail.errorDetails;
    const message = typeof text === 'string' ? text : '';
    return new NightshiftError(
      status === 404 ? 'flag_not_found' : 'flags_request_failed',
      `flag provider ${what} answered ${status}${message ? `: ${message}` : ''}`,
      { data: { status }, retryable: status === 408 || status === 429 || status >= 500 },
    );
  };
  const path = (key: string): string => `/flags/${encodeURIComponent(key)}`;
  return {
    async read(key) {
      const answer = await call('GET', path(key));
      if (answer.status === 200) {
        const value = (answer.json as { value?: unknown } | undefined)?.value;
        if (isFlagValue(value)) return value;
        throw new NightshiftError('flags_request_failed', `flag provider sent no value for "${key}"`);
      }
      if (answer.status === 404 || answer.status === 405) {
        const ofrep = await call('POST', `/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`, {
          context: {},
        });
        const value = (ofrep.json as { value?: unknown } | undefined)?.value;
        if (ofrep.status === 200 && isFlagValue(value)) return value;
        throw fail(`read of "${key}"`, ofrep.status === 200 ? 502 : ofrep.status, ofrep.json);
      }
      throw fail(`read of "${key}"`, answer.status, answer.json);
    },
    async write(key, value, actor) {
      const answer = await call('PUT', path(key), { value, actor });
      if (answer.status !== 200) throw fail(`write of "${key}"`, answer.status, answer.json);
      const stored = (answer.json as { value?: unknown } | undefined)?.value;
      return isFlagValue(stored) ? stored : value;
    },
  };
}
