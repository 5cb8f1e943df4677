import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { SystemError } from '../../shared/errors.js';
import { GRAPH_SCHEMA_VERSION, type Entity, type GraphEvent, type Relationship } from '../schema.js';
import type { MemoryGraph } from './memory-graph.js';

const FORMAT = 'nightshift-graph-snapshot';
const CHUNK_BYTES = 256 * 1024;

interface Header {
  format: typeof FORMAT;
  v: number;
  /** The last journal record the snapshot includes. */
  seq: number;
  createdAt: number;
}

interface Trailer {
  end: true;
  entities: number;
  relationships: number;
  events: number;
}

/**
 * A snapshot of the whole graph as JSON lines: a header (`seq` = the last journal record it
 * holds), then `E`, `R` and `V` lines (entities, relationships, events), then a trailer with the
 * counts. It is written to a temporary file, fsynced and renamed over the old one, so a crash
 * leaves either the old or the new snapshot; a snapshot without a matching trailer is refused.
 */
export async function writeSnapshot(
  path: string,
  graph: MemoryGraph,
  seq: number,
  now: number,
): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    let chunk = '';
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const buffer = Buffer.from(chunk, 'utf8');
      chunk = '';
      let written = 0;
      while (written < buffer.length) {
        written += (await handle.write(buffer, written, buffer.length - written, null)).bytesWritten;
      }
    };
    const header: Header = { format: FORMAT, v: GRAPH_SCHEMA_VERSION, seq, createdAt: now };
    chunk += `${JSON.stringify(header)}\n`;
    const counts = { entities: 0, relationships: 0, events: 0 };
    for (const entity of graph.entities()) {
      chunk += `E ${JSON.stringify(entity)}\n`;
      counts.entities++;
      if (chunk.length >= CHUNK_BYTES) await flush();
    }
    for (const relationship of graph.relationships()) {
      chunk += `R ${JSON.stringify(relationship)}\n`;
      counts.relationships++;
      if (chunk.length >= CHUNK_BYTES) await flush();
    }
    for (const event of graph.allEvents()) {
      chunk += `V ${JSON.stringify(event)}\n`;
      counts.events++;
      if (chunk.length >= CHUNK_BYTES) await flush();
    }
    const trailer: Trailer = { end: true, ...counts };
    chunk += `${JSON.stringify(trailer)}\n`;
    await flush();
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** Loads a snapshot into an empty graph; returns the last journal sequence number it holds, or 0 without one. */
export async function readSnapshot(path: string, graph: MemoryGraph): Promise<number> {
  let stream;
  try {
    const handle = await open(path, 'r');
    stream = handle.createReadStream({ encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const corrupt = (why: string): SystemError =>
    new SystemError(
      'graph_snapshot_corrupt',
      `graph snapshot ${path} is damaged (${why}); restore it from a backup`,
      {
        retryable: false,
        data: { path },
      },
    );
  let header: Header | undefined;
  let trailer: Trailer | undefined;
  const counts = { entities: 0, relationships: 0, events: 0 };
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (trailer) throw corrupt('data after the trailer');
      if (!header) {
        header = JSON.parse(line) as Header;
        if (header.format !== FORMAT) throw corrupt('not a snapshot');
        if (header.v > GRAPH_SCHEMA_VERSION) {
          throw new SystemError(
            'graph_snapshot_too_new',
            `graph snapshot ${path} was written by a newer nightshift (schema v${header.v}; this one reads v${GRAPH_SCHEMA_VERSION})`,
            { retryable: false },
          );
        }
        continue;
      }
      const tag = line.slice(0, 2);
      if (tag === 'E ') {
        graph.loadEntity(JSON.parse(line.slice(2)) as Entity);
        counts.entities++;
      } else if (tag === 'R ') {
        graph.loadRelationship(JSON.parse(line.slice(2)) as Relationship);
        counts.relationships++;
      } else if (tag === 'V ') {
        graph.applyEvents([JSON.parse(line.slice(2)) as GraphEvent]);
        counts.events++;
      } else {
        trailer = JSON.parse(line) as Trailer;
        if (trailer.end !== true) throw corrupt('unknown line');
      }
    }
  } catch (error) {
    if (error instanceof SystemError) throw error;
    throw corrupt(error instanceof Error ? error.message : String(error));
  } finally {
    stream.destroy();
  }
  if (!header) throw corrupt('empty file');
  if (
    !trailer ||
    trailer.entities !== counts.entities ||
    trailer.relationships !== counts.relationships ||
    trailer.events !== counts.events
  ) {
    throw corrupt('the trailer is missing or its counts do not match');
  }
  return header.seq;
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}
