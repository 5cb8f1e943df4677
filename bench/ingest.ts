/**
 * Ingest benchmark: `npm run bench:ingest -- [--rate 500] [--duration 30] [--batch 10] [--json]`.
 *
 * Starts the daemon in this process (embedded graph in a temp dir, Redis from REDIS_URL or
 * 127.0.0.1:6379, a fresh queue prefix) and POSTs Alertmanager v4 bodies of `--batch` alerts
 * each to /webhooks/alertmanager at `--rate` alerts per second for `--duration` seconds, over
 * loopback with keep-alive. Every alert has its own fingerprint. Then it waits until the graph
 * holds an Alert entity for every acknowledged alert (or 60 s pass) and prints
 * `{sent, acknowledged, inGraph, lost, ackP50Ms, ackP99Ms, …}`. `lost` counts acknowledged alerts
 * that never reached the graph. With `--json`, stdout is exactly one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { build } from '../src/app/build.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/shared/logger.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    duration: { type: 'string', default: '30' },
    batch: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const durationS = Number(values.duration);
const batch = Number(values.batch);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-ingest-'));
const token = 'bench-token-0123456789abcdef';
const config = loadConfig({
  env: {
    NIGHTSHIFT_PORT: '0',
    NIGHTSHIFT_DATA_DIR: dataDir,
    NIGHTSHIFT_LOG_LEVEL: 'silent',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    NIGHTSHIFT_QUEUE_PREFIX: `nsbench:${process.pid}`,
    NIGHTSHIFT_ALERTMANAGER_TOKEN: token,
    NIGHTSHIFT_GRAPH_FSYNC: 'interval',
    NIGHTSHIFT_INVESTIGATE_RETRIES: '0',
  },
  cwd: process.cwd(),
});
const app = build(config, { logger: silentLogger() });
const { url } = await app.start();
const graph = app.graph();
const dispatcher = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

function body(first: number): string {
  const alerts = Array.from({ length: batch }, (_, offset) => {
    const n = first + offset;
    return {
      status: 'firing',
      labels: { alertname: `BenchAlert${n}`, service: 'bench', namespace: 'bench', severity: 'warning' },
      annotations: { summary: `bench alert ${n}` },
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.bench:9090/graph',
      fingerprint: n.toString(16).padStart(16, '0'),
    };
  });
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="Bench${first}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'nightshift',
    groupLabels: {},
    commonLabels: { service: 'bench' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.bench:9093',
    alerts,
  });
}

const latencies: number[] = [];
let sent = 0;
let acknowledged = 0;
let refused = 0;
const inflight = new Set<Promise<void>>();
const bodiesPerSecond = rate / batch;
const total = Math.round(bodiesPerSecond * durationS);
const start = performance.now();
for (let index = 0; index < total; index++) {
  const due = start + (index / bodiesPerSecond) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  const first = index * batch;
  sent += batch;
  const began = performance.now();
  const call = request(`${url}/webhooks/alertmanager`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body(first),
  })
    .then(async (response) => {
      await response.body.dump();
      latencies.push(performance.now() - began);
      if (response.statusCode === 202) acknowledged += batch;
      else refused += batch;
    })
    .catch(() => {
      refused += batch;
    });
  inflight.add(call);
  void call.finally(() => inflight.delete(call));
}
await Promise.all(inflight);
const sendSeconds = (performance.now() - start) / 1000;
log(`sent ${sent} alerts in ${sendSeconds.toFixed(1)} s; waiting for the graph`);

let inGraph = 0;
const waitStart = performance.now();
while (performance.now() - waitStart < 60_000) {
  inGraph = (await graph.stats()).entitiesByKind.Alert ?? 0;
  if (inGraph >= acknowledged) break;
  await new Promise((done) => setTimeout(done, 250));
}
const drainSeconds = (performance.now() - waitStart) / 1000;
latencies.sort((a, b) => a - b);
const pick = (q: number): number =>
  Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) / 10;
const result = {
  rate,
  durationS,
  batch,
  sent,
  acknowledged,
  refused,
  inGraph,
  lost: Math.max(0, acknowledged - inGraph),
  ackP50Ms: pick(0.5),
  ackP99Ms: pick(0.99),
  sendSeconds: Math.round(sendSeconds * 10) / 10,
  drainAfterSendSeconds: Math.round(drainSeconds * 10) / 10,
};
await app.stop();
await dispatcher.close();
rmSync(dataDir, { recursive: true, force: true });
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else log(JSON.stringify(result, null, 2));
process.exit(0);
