import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../../../src/graph/embedded/embedded-store.js';
import { serviceId } from '../../../src/graph/ids.js';
import { datadogConfiguration } from '../../../src/ingest/pollers/datadog/datadog-api.js';
import { datadogPoller } from '../../../src/ingest/pollers/datadog/datadog-poller.js';
import { signalId } from '../../../src/ingest/signal.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { Secret } from '../../../src/shared/secret.js';
import { tempDir } from '../../kit/tmp.js';
import { pollOnce } from './poller-kit.js';

/**
 * The sim serves no monitor API, so this loopback server answers `GET /api/v1/monitor` with
 * bodies shaped as Datadog documents them (snake_case, `overall_state`), paged by `page` and
 * `page_size`, and refuses requests without both keys.
 */
function monitorServer(
  states: Map<number, string>,
): Promise<{ url: string; server: Server; queries: URLSearchParams[] }> {
  const queries: URLSearchParams[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!request.headers['dd-api-key'] || !request.headers['dd-application-key']) {
      response.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":["Forbidden"]}');
      return;
    }
    if (url.pathname !== '/api/v1/monitor') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":["Not found"]}');
      return;
    }
    queries.push(url.searchParams);
    const page = Number(url.searchParams.get('page') ?? 0);
    const size = Number(url.searchParams.get('page_size') ?? 100);
    const all = [...states].map(([id, state]) => ({
      id,
      name: `Monitor ${id}`,
      type: 'query alert',
      query: `avg(last_5m):avg:trace.http.request.errors{service:svc-${id}} > 5`,
      message: 'Notify @webhook-nightshift',
      overall_state: state,
      priority: id === 1 ? 1 : null,
      tags: [`service:svc-${id}`, 'team:payments'],
      options: {},
      multi: false,
    }));
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(all.slice(page * size, page * size + size)));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, server, queries });
    }),
  );
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

describe('Datadog monitor states', () => {
  it('fires on entering Alert, Warn or No Data and resolves on OK, across pages', async () => {
    const states = new Map([
      [1, 'Alert'],
      [2, 'OK'],
      [3, 'Warn'],
    ]);
    const fake = await monitorServer(states);
    servers.push(fake.server);
    const clock = new ManualClock(Date.UTC(2026, 2, 2, 9));
    const graph = await EmbeddedGraphStore.open({
      dataDir: tempDir(),
      fsync: 'never',
      logger: silentLogger(),
      clock,
    });
    try {
      const context = { graph, clock, logger: silentLogger() };
      const poller = datadogPoller({
        configuration: datadogConfiguration({
          baseUrl: fake.url,
          apiKey: new Secret('a'),
          appKey: new Secret('b'),
        }),
        sloQueries: [],
        monitors: { monitorTags: ['team:payments'], pageSize: 2 },
      });
      const first = await pollOnce(poller, poller.initialState(), context);
      expect(
        fake.queries.map((query) => [query.get('page'), query.get('page_size'), query.get('monitor_tags')]),
      ).toEqual([
        ['0', '2', 'team:payments'],
        ['1', '2', 'team:payments'],
      ]);
      expect(first.signals.map((signal) => [signal.fingerprint, signal.status, signal.severity])).toEqual([
        ['datadog/monitor/1', 'firing', 'critical'],
        ['datadog/monitor/3', 'firing', 'warning'],
      ]);
      expect(first.signals[0]?.entities).toEqual([
        { kind: 'Service', id: serviceId('svc-1'), name: 'svc-1' },
      ]);

      clock.advance(60_000);
      const steady = await pollOnce(poller, first.nextState, context);
      expect(steady.signals).toEqual([]);

      states.set(1, 'OK');
      states.set(2, 'No Data');
      clock.advance(60_000);
      const changed = await pollOnce(poller, steady.nextState, context);
      expect(changed.signals.map((signal) => [signal.fingerprint, signal.status])).toEqual([
        ['datadog/monitor/1', 'resolved'],
        ['datadog/monitor/2', 'firing'],
      ]);
      const resolved = changed.signals[0];
      expect(resolved?.attributes.state).toBe('OK');
      // The resolution names the same episode (first seen at the first poll) as the firing it ends.
      const firstPoll = clock.now() - 120_000;
      expect(first.signals[0]?.id).toBe(signalId('datadog', 'datadog/monitor/1', 'firing', firstPoll));
      expect(resolved?.id).toBe(signalId('datadog', 'datadog/monitor/1', 'resolved', firstPoll));
      expect(changed.nextState.monitors['1']).toEqual({ state: 'OK', since: clock.now() });
    } finally {
      await graph.close();
    }
  });
});
