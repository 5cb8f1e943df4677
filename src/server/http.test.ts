import { describe, expect, it } from 'vitest';
import { HealthRegistry } from '../app/health.js';
import { createMetrics } from '../app/metrics.js';
import { silentLogger } from '../shared/logger.js';
import { createHttpApp } from './http.js';

function app(states: Record<string, { required: boolean; state: 'ok' | 'degraded' | 'down' }> = {}) {
  const health = new HealthRegistry();
  for (const [name, entry] of Object.entries(states)) {
    health.register(name, { required: entry.required, check: () => Promise.resolve(entry.state) });
  }
  return createHttpApp({
    bodyLimitBytes: 2048,
    health,
    metrics: createMetrics(),
    logger: silentLogger(),
    routes: [
      (hono) => {
        hono.post('/echo', async (context) => context.json({ size: (await context.req.text()).length }));
        hono.get('/boom', () => {
          throw new Error('kaput');
        });
      },
    ],
  });
}

describe('the HTTP surface', () => {
  it('answers 503 naming the required dependency that is down, 200 when only an optional one is', async () => {
    const notReady = await app({
      redis: { required: true, state: 'down' },
      loop: { required: false, state: 'ok' },
    }).request('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      status: 'not_ready',
      dependencies: { redis: { state: 'down', required: true }, loop: { state: 'ok', required: false } },
    });
    const degraded = await app({
      redis: { required: true, state: 'ok' },
      loop: { required: false, state: 'down' },
    }).request('/readyz');
    expect(degraded.status).toBe(200);
  });

  it('refuses a body over the limit with 413 and a JSON error', async () => {
    const response = await app().request('/echo', { method: 'POST', body: 'x'.repeat(4096) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'payload_too_large', message: 'request body exceeds 2048 bytes' },
    });
    const small = await app().request('/echo', { method: 'POST', body: 'x'.repeat(100) });
    expect(await small.json()).toEqual({ size: 100 });
  });

  it('answers unknown routes and thrown errors with JSON, and tags every response with a request id', async () => {
    const missing = await app().request('/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /nowhere' },
    });
    expect(missing.headers.get('x-request-id')).toMatch(/\S+/);
    const failed = await app().request('/boom');
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('internal');
    expect(body.error.message).not.toContain('kaput');
  });

  it('serves Prometheus metrics with the build info', async () => {
    const response = await app().request('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('nightshift_build_info{');
  });
});
