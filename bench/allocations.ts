import { differences, functionKey, owner } from './profile.js';

/**
 * What a server allocates per request, by function: V8's sampling heap profiler driven through the
 * inspector (Chrome DevTools Protocol, HeapProfiler.startSampling), told to keep the samples of
 * objects the collector has already freed. node --heap-prof cannot say this: it writes only what is
 * still alive at exit, while what costs a server under load is the garbage each request leaves (the
 * young-generation collections it causes, and the pages they release and fault in again).
 */

/** One sampled node of the allocation tree (HeapProfiler.SamplingHeapProfileNode). */
interface SampleNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SampleNode[];
}

export interface Allocations {
  requests: number;
  /** Sampled bytes allocated per request, keyed `name [owner]`. */
  byFunction: Map<string, number>;
  total: number;
}

/** One sample per this many bytes allocated, on average: small enough for sites of a few hundred bytes a request. */
const SAMPLING_INTERVAL = 4096;

/** A connection to a process's inspector (node --inspect=host:port) that sends commands and awaits their answers. */
async function inspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let lastId = 0;
  const waiting = new Map<number, (answer: { result?: unknown; error?: { message: string } }) => void>();
  socket.addEventListener('message', (event) => {
    const answer = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (answer.id !== undefined) waiting.get(answer.id)?.(answer);
  });
  return {
    async send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const id = ++lastId;
      const answer = await new Promise<{ result?: unknown; error?: { message: string } }>((resolve) => {
        waiting.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      });
      waiting.delete(id);
      if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
      return answer.result as T;
    },
    close: () => socket.close(),
  };
}

/** Samples what the process behind the inspector allocates while `run` goes on; run returns how many requests it made. */
export async function sampleAllocations(inspectorPort: number, run: () => Promise<number>): Promise<Allocations> {
  const session = await inspector(inspectorPort);
  try {
    await session.send('HeapProfiler.enable');
    await session.send('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const requests = await run();
    const { profile } = await session.send<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
    const byFunction = new Map<string, number>();
    let total = 0;
    const walk = (node: SampleNode) => {
      const { functionName, url } = node.callFrame;
      const key = functionKey(functionName, owner(url, functionName));
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize / requests);
      total += node.selfSize / requests;
      node.children.forEach(walk);
    };
    walk(profile.head);
    return { requests, byFunction, total };
  } finally {
    session.close();
  }
}

/**
 * Gatehouse's allocations per request against bare oidc-provider's, and the sites that allocate most
 * beyond it; without a baseline (a flow bare has not), Gatehouse's own largest sites.
 */
export function compareAllocations(ours: Allocations, bare?: Allocations): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const { rows: diffs, row } = differences(
    (k) => ours.byFunction.get(k) ?? 0,
    (k) => bare?.byFunction.get(k) ?? 0,
    [...ours.byFunction.keys(), ...(bare?.byFunction.keys() ?? [])],
    0,
  );
  const head = bare
    ? `Allocated per request, freed or not (sampled heap profiler; ${ours.requests} and ${bare.requests} requests): Gatehouse ${kb(ours.total)}, bare ${kb(bare.total)}`
    : `Allocated per request, freed or not (sampled heap profiler; ${ours.requests} requests): ${kb(ours.total)}`;
  return [
    head,
    `functions that allocate most${bare ? ' beyond bare' : ''} (bytes per request: difference, Gatehouse, bare):`,
    ...diffs.slice(0, 15).map(row),
  ].join('\n');
}
