import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { NightshiftError } from '../shared/errors.js';
import { createHttpFlagsApi } from './flags-api.js';
import { kubernetesError } from './kubernetes-client.js';

async function serve(
  handler: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => handler(request, body, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

describe('the HTTP flag provider', () => {
  it('reads and writes with the bearer token, sending who acted', async () => {
    const seen: string[] = [];
    const url = await serve((request, body, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''} ${body}`);
      json(response, 200, {
        key: 'f',
        value: request.method === 'PUT' ? (JSON.parse(body) as { value: unknown }).value : false,
      });
    });
    const flags = createHttpFlagsApi({ url: `${url}/`, token: 't0k' });
    expect(await flags.read('f')).toBe(false);
    expect(await flags.write('f', true, 'nightshift/a')).toBe(true);
    expect(seen).toEqual([
      'GET /flags/f Bearer t0k ',
      'PUT /flags/f Bearer t0k {"value":true,"actor":"nightshift/a"}',
    ]);
  });

  it('falls back to an OpenFeature remote evaluation for reads', async () => {
    const url = await serve((request, _body, response) => {
      if (request.url === '/ofrep/v1/evaluate/flags/f')
        json(response, 200, { key: 'f', value: 'blue', reason: 'STATIC' });
      else json(response, 404, { error: 'no such path' });
    });
    expect(await createHttpFlagsApi({ url }).read('f')).toBe('blue');
  });

  it('marks 5xx and lost connections retryable, 4xx not', async () => {
    let status = 503;
    const url = await serve((_request, _body, response) => json(response, status, { error: 'busy' }));
    const flags = createHttpFlagsApi({ url });
    await expect(flags.write('f', true, 'a')).rejects.toMatchObject({
      retryable: true,
      data: { status: 503 },
    });
    status = 400;
    await expect(flags.write('f', true, 'a')).rejects.toMatchObject({
      retryable: false,
      data: { status: 400 },
    });
    await expect(flags.write('f', true, 'a')).rejects.toThrow('busy');
    await expect(createHttpFlagsApi({ url: 'http://127.0.0.1:1' }).read('f')).rejects.toMatchObject({
      code: 'flags_unreachable',
      retryable: true,
    });
  });
});

describe('kubernetesError', () => {
  it('keeps the status and decides retryability where the failure happens', () => {
    const failure = (code: number): NightshiftError =>
      kubernetesError(
        'patch',
        new k8s.ApiException(code, 'm', JSON.stringify({ message: `status ${code}` }), {}),
      );
    expect(failure(409)).toMatchObject({ retryable: true, data: { status: 409 } });
    expect(failure(503).retryable).toBe(true);
    expect(failure(429).retryable).toBe(true);
    expect(failure(422)).toMatchObject({
      retryable: false,
      message: 'patch: the API answered 422 (status 422)',
    });
    expect(failure(404).code).toBe('kubernetes_not_found');
    expect(kubernetesError('read', new Error('ECONNREFUSED'))).toMatchObject({
      code: 'kubernetes_unreachable',
      retryable: true,
    });
  });
});
