#!/usr/bin/env node
/**
 * Local Neo4j 5.26 Community server without Docker: an embedded server built with Maven from
 * tools/neo4j-local and run on the JVM, with Bolt on 127.0.0.1 and authentication disabled.
 *
 * Run directly:  node scripts/neo4j-local.mjs
 *   NEO4J_PORT      Bolt port (default 7687, 0 picks a free one)
 *   NEO4J_HOME_DIR  data directory to keep between runs (default: a temporary one, deleted on exit)
 *   NEO4J_JAVA_OPTS extra JVM options appended to the defaults
 *   JAVA_HOME       JDK to use (default: `java` on PATH; Java 17 or newer)
 * Prints exactly one line `bolt://127.0.0.1:PORT` to stdout when ready; everything else goes to
 * stderr. SIGTERM/SIGINT/SIGHUP stop the server gracefully; the exit status is then 0.
 *
 * Imported:  const { uri, port, stop } = await startNeo4j({ port: 0 });
 */
/* global AbortController */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'neo4j-local');
const TARGET_DIR = join(PROJECT_DIR, 'target');
const CLASSPATH_FILE = join(TARGET_DIR, 'cp.txt');
const CLASSES_DIR = join(TARGET_DIR, 'classes');
const MAIN_CLASS = 'dev.nightshift.neo4jlocal.Main';
const MAIN_CLASS_FILE = join(CLASSES_DIR, ...MAIN_CLASS.split('.')) + '.class';
const BUILD_STAMP = join(TARGET_DIR, '.built');
const BUILD_LOCK = join(TARGET_DIR, '.build-lock');
const READY_LINE = /^bolt:\/\/127\.0\.0\.1:(\d+)$/;
const STDERR_TAIL_LINES = 60;

/**
 * Default JVM options. The --add-opens flags are the ones the Neo4j distribution itself passes;
 * without them the page cache and transaction log native access fall back to slower paths and
 * warn in debug.log. Serial GC and C1-only compilation keep RSS and startup low for local use.
 */
export const JVM_OPTIONS = Object.freeze([
  '-Xms64m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:+ExitOnOutOfMemoryError',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--enable-native-access=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Djdk.nio.maxCachedBufferSize=1024',
  '-Dlog4j2.disable.jmx=true',
]);

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestInputMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestInputMtime(join(path, entry)));
  return newest;
}

/** True when the Maven project has not been built, its inputs changed, or a dependency jar is gone. */
export function needsBuild() {
  const stamp = mtimeMs(BUILD_STAMP);
  if (stamp === undefined || !existsSync(MAIN_CLASS_FILE) || !existsSync(CLASSPATH_FILE)) return true;
  const inputs = Math.max(
    newestInputMtime(join(PROJECT_DIR, 'pom.xml')),
    newestInputMtime(join(PROJECT_DIR, 'src')),
  );
  if (inputs > stamp) return true;
  return readClasspath().some((entry) => !existsSync(entry));
}

function readClasspath() {
  return readFileSync(CLASSPATH_FILE, 'utf8').trim().split(':').filter(Boolean);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withBuildLock(fn) {
  mkdirSync(TARGET_DIR, { recursive: true });
  const staleAfterMs = 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const since = mtimeMs(BUILD_LOCK);
      if (since !== undefined && Date.now() - since > staleAfterMs)
        rmSync(BUILD_LOCK, { recursive: true, force: true });
      else sleepSync(250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

/**
 * Builds tools/neo4j-local with Maven (reusing ~/.m2) unless an up-to-date build exists.
 * Synchronous; Maven output goes to stderr. Safe to call from several processes at once.
 */
export function ensureBuilt() {
  if (!needsBuild()) return;
  withBuildLock(() => {
    if (!needsBuild()) return;
    process.stderr.write(
      `neo4j-local: building ${PROJECT_DIR} with Maven (the first run downloads about 125 MB of jars)\n`,
    );
    const result = spawnSync(
      'mvn',
      [
        '-q',
        '-B',
        '-Dstyle.color=never',
        'package',
        'dependency:build-classpath',
        '-Dmdep.outputFile=target/cp.txt',
      ],
      {
        cwd: PROJECT_DIR,
        stdio: ['ignore', 2, 2],
        // Maven 3.8's jansi otherwise emits colour-reset escapes even in quiet batch mode.
        env: { ...process.env, MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ''} -Djansi.noreset=true`.trim() },
      },
    );
    if (result.error) {
      throw new Error(
        `neo4j-local: could not run mvn (${result.error.message}); Maven 3 and a JDK 17+ are required`,
      );
    }
    if (result.status !== 0) {
      throw new Error(`neo4j-local: Maven build failed with status ${result.status ?? result.signal}`);
    }
    writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
  });
}

function javaExecutable() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function extraJavaOptions() {
  return (process.env.NEO4J_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Starts a Neo4j server and resolves once it accepts Bolt connections.
 *
 * @param {object} [options]
 * @param {number} [options.port=0] Bolt port on 127.0.0.1; 0 picks a free one.
 * @param {string} [options.homeDir] data directory to use; default a temporary one deleted on stop.
 * @param {(line: string) => void} [options.log] receives every stderr line of the server.
 * @param {number} [options.timeoutMs=120000] how long to wait for the server to become ready.
 * @param {AbortSignal} [options.signal] aborting it stops the server (also during startup).
 * @returns {Promise<{ uri: string, port: number, pid: number, stop(): Promise<void>,
 *   exited: Promise<{ code: number | null, signal: string | null }> }>}
 */
export async function startNeo4j({ port = 0, homeDir, log, timeoutMs = 120_000, signal } = {}) {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`neo4j-local: invalid port ${port}`);
  signal?.throwIfAborted();
  ensureBuilt();

  const env = { ...process.env };
  delete env.NEO4J_PORT;
  delete env.NEO4J_HOME_DIR;
  const args = [
    ...JVM_OPTIONS,
    ...extraJavaOptions(),
    '-cp',
    [CLASSES_DIR, ...readClasspath()].join(':'),
    MAIN_CLASS,
    String(port),
    ...(homeDir ? [resolve(homeDir)] : []),
  ];
  const child = spawn(javaExecutable(), args, { cwd: PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });

  const tail = [];
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
    log?.(line);
  });

  const exited = new Promise((resolveExit) => {
    child.once('exit', (code, exitSignal) => resolveExit({ code, signal: exitSignal }));
    child.once('error', () => resolveExit({ code: null, signal: null }));
  });
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  exited.then(() => process.off('exit', killOnExit));

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const escalate = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(escalate);
      }
    })();
    return stopping;
  };
  signal?.addEventListener('abort', () => void stop(), { once: true });

  const describe = (what) =>
    `neo4j-local: ${what}` +
    (tail.length ? `\n--- server stderr (last ${tail.length} lines) ---\n${tail.join('\n')}` : '');

  const ready = await new Promise((resolveReady, rejectReady) => {
    let failure;
    const timer = setTimeout(() => {
      failure = `server not ready within ${timeoutMs} ms`;
      void stop();
    }, timeoutMs);
    const settle = (fn, value) => {
      clearTimeout(timer);
      fn(value);
    };
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      const match = READY_LINE.exec(line.trim());
      if (!match) log?.(line);
      else if (!signal?.aborted) settle(resolveReady, { uri: match[0], port: Number(match[1]) });
    });
    child.once('error', (error) => {
      const hint = error.code === 'ENOENT' ? '; install a JDK 17+ or set JAVA_HOME' : '';
      settle(
        rejectReady,
        new Error(`neo4j-local: could not start ${javaExecutable()} (${error.message})${hint}`),
      );
    });
    exited.then(({ code, signal: exitSignal }) => {
      failure ??= signal?.aborted
        ? 'startup aborted'
        : `server exited during startup (status ${code ?? exitSignal})`;
      settle(rejectReady, new Error(describe(failure)));
    });
  });

  return { ...ready, pid: child.pid, stop, exited };
}

async function main() {
  const rawPort = process.env.NEO4J_PORT ?? '7687';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort.trim()) || port > 65_535) {
    process.stderr.write(`neo4j-local: invalid NEO4J_PORT ${JSON.stringify(rawPort)}\n`);
    process.exit(2);
  }

  const abort = new AbortController();
  for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(name, () => abort.abort());

  let server;
  try {
    server = await startNeo4j({
      port,
      homeDir: process.env.NEO4J_HOME_DIR || undefined,
      log: (line) => process.stderr.write(`${line}\n`),
      signal: abort.signal,
    });
  } catch (error) {
    // Server stderr has already been streamed, so only the summary line is repeated here.
    if (!abort.signal.aborted) process.stderr.write(`${error.message.split('\n')[0]}\n`);
    process.exit(abort.signal.aborted ? 0 : 1);
  }

  process.stdout.write(`${server.uri}\n`);
  const { code, signal } = await server.exited;
  if (abort.signal.aborted) process.exit(0);
  process.stderr.write(`neo4j-local: server exited unexpectedly (status ${code ?? signal})\n`);
  process.exit(code || 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
