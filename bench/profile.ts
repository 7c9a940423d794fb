import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (written by node --cpu-prof) that this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  /** When sampling began, in µs on the monotonic clock (V8's TimeTicks: CLOCK_MONOTONIC on Linux). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stretch of time in µs on the monotonic clock, as process.hrtime gives it (now()). */
export interface Window {
  from: number;
  to: number;
}

/**
 * A profiled run: its requests, its window on the samples' clock, and the main thread's CPU time
 * over it from /proc (ms), when there is a /proc.
 */
export interface ProfiledRun {
  requests: number;
  window?: Window;
  mainCpuMs?: number;
}

/**
 * V8 samples on a timer, so a sample lands in whatever function the thread is in, running or not:
 * a socket write that wakes the database on a shared core is charged for the time the thread then
 * waits for the core back. Busy sampled time per request is therefore above the main thread's CPU
 * time, and a system call's µs are not CPU; its share against bare's, beside /proc's CPU, is what
 * can be read. (Measured on a refresh: pg's writev 360 µs per request sampled, 55 µs of CPU by perf.)
 */
const CAVEAT = 'sampled on a timer: a function\'s time includes any wait for a core inside it (a socket write waking the database), so compare it with /proc\'s CPU';

const cpuNote = (run: ProfiledRun) => (run.mainCpuMs === undefined ? '' : `; /proc: ${((1000 * run.mainCpuMs) / run.requests).toFixed(0)} µs of main-thread CPU`);

/** The monotonic clock in µs: the clock V8 stamps profile samples with, on Linux as uv_hrtime. */
export const now = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * A profile with only the samples taken within the window: the measured run, without the start-up
 * before it (on a fresh embedded node, migrating and seeding its database is about a third of the
 * profile) or the shutdown after it. A window that holds no sample (a clock that is not the one V8
 * uses) leaves the profile whole rather than empty.
 */
function readProfile(file: string, window?: Window): CpuProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (!window) return profile;
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < window.from || at > window.to) return;
    samples.push(id);
    timeDeltas.push(profile.timeDeltas[i] ?? 0);
  });
  return samples.length ? { ...profile, samples, timeDeltas } : profile;
}

/** Our middleware and hooks on the token path, by function name: their inclusive share is printed. */
const OURS = [
  'logRequest',
  'errorBoundary',
  'route',
  'oidcProvider',
  'guardEndpoints',
  'introspectOtherTokens',
  'compareClientSecret',
  'find',
  'defaultResource',
  'getResourceServerInfo',
];

/** Where a function lives: a package under node_modules, Gatehouse itself, Node's core, or V8. */
export function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  if (/\/(dist\/)?(server|adapters)\//.test(url)) return 'gatehouse';
  return 'other';
}

/** How a function is named in every table: `name [owner]`. */
export const functionKey = (functionName: string, who: string) => `${functionName || '(anonymous)'} [${who}]`;

/**
 * Per-request figures of two processes by function (Gatehouse's and bare's), largest excess of
 * Gatehouse first, and a row printer with `digits` decimals: difference, Gatehouse, bare, function.
 */
export function differences(ours: (key: string) => number, bare: (key: string) => number, keys: Iterable<string>, digits: number) {
  const rows = [...new Set(keys)].map((k) => ({ k, ours: ours(k), bare: bare(k) })).sort((x, y) => y.ours - y.bare - (x.ours - x.bare));
  const row = (d: (typeof rows)[number]) => `  ${(d.ours - d.bare).toFixed(digits).padStart(7)}  ${d.ours.toFixed(digits).padStart(7)}  ${d.bare.toFixed(digits).padStart(7)}  ${d.k}`;
  return { rows, row };
}

/** Busy (not idle) self time per function, keyed `name [owner]`, and the busy total, in µs. */
function selfTimes(file: string, window?: Window): { byFunction: Map<string, number>; busy: number } {
  const profile = readProfile(file, window);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const time = profile.timeDeltas[i] ?? 0;
    busy += time;
    const key = functionKey(functionName, owner(url, functionName));
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  });
  return { byFunction, busy };
}

/**
 * Gatehouse's profile against bare oidc-provider's under the same load: CPU per request of each, and
 * the functions whose self time per request differs most, so the gap is read function by function
 * (a function of bench/bare.ts itself is owned by "other").
 */
export function compareProfiles(ours: ProfiledRun & { file: string }, bare: ProfiledRun & { file: string }): string {
  const a = selfTimes(ours.file, ours.window);
  const b = selfTimes(bare.file, bare.window);
  const { rows: diffs, row } = differences(
    (k) => (a.byFunction.get(k) ?? 0) / ours.requests,
    (k) => (b.byFunction.get(k) ?? 0) / bare.requests,
    [...a.byFunction.keys(), ...b.byFunction.keys()],
    1,
  );
  return [
    `Against bare oidc-provider under the same load (profiled too, ${bare.requests} requests): ${(a.busy / ours.requests).toFixed(0)} µs of busy main thread sampled per request${cpuNote(ours)}; bare ${(b.busy / bare.requests).toFixed(0)} µs${cpuNote(bare)}`,
    'functions that cost Gatehouse most beyond bare (self µs per request: difference, Gatehouse, bare):',
    ...diffs.slice(0, 20).map(row),
    'and that cost bare more:',
    ...diffs.slice(-3).reverse().map(row),
  ].join('\n');
}

/**
 * Where one process's main thread spent its time: self time by owner (package), the hottest
 * functions, and the inclusive share of our own middleware, each as a share of the busy (not idle)
 * time, plus the CPU time per request.
 */
export function summarizeProfile(file: string, run: ProfiledRun, flow = 'client_credentials'): string {
  const { requests, window } = run;
  const profile = readProfile(file, window);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const total = [...self.values()].reduce((s, v) => s + v, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;
  const pct = (v: number) => `${((100 * v) / busy).toFixed(1)}%`;

  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const who = owner(url, functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + time);
    const key = functionKey(functionName, who);
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  }

  // Inclusive time of a function: its samples and those of everything it called. Summed over every
  // node of that name that is not inside another node of the same name (no double counting).
  const inclusive = (node: CpuProfile['nodes'][number]): number => (self.get(node.id) ?? 0) + (node.children ?? []).reduce((s, c) => s + inclusive(byId.get(c)!), 0);
  const ours = new Map<string, number>();
  const walk = (node: CpuProfile['nodes'][number], inside: Set<string>) => {
    const name = node.callFrame.functionName;
    const counted = OURS.includes(name) && owner(node.callFrame.url, name) === 'gatehouse' && !inside.has(name);
    if (counted) ours.set(name, (ours.get(name) ?? 0) + inclusive(node));
    const next = counted ? new Set([...inside, name]) : inside;
    for (const c of node.children ?? []) walk(byId.get(c)!, next);
  };
  walk(profile.nodes[0], new Set());

  // Who the hottest native and Node-core functions work for: the package of their nearest caller
  // outside Node itself (socket writes from pg, from the HTTP response or from the log look alike).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const onBehalfOf = (id: number): string => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const who = owner(url, functionName);
      if (who !== 'node core' && who !== '(native)' && !who.startsWith('(')) return who;
    }
    return 'node core';
  };
  const callers = new Map<string, Map<string, number>>();
  for (const [id, time] of self) {
    const { functionName, url } = byId.get(id)!.callFrame;
    const who = owner(url, functionName);
    if (who !== 'node core' && who !== '(native)') continue;
    const key = functionKey(functionName, who);
    const per = callers.get(key) ?? new Map<string, number>();
    const by = onBehalfOf(id);
    per.set(by, (per.get(by) ?? 0) + time);
    callers.set(key, per);
  }

  const top = <K>(m: Map<K, number>, n: number) => [...m.entries()].sort((x, y) => y[1] - x[1]).slice(0, n);
  const lines = [
    `Profile of the ${flow.endsWith('/embedded') ? 'embedded node' : 'node'}'s main thread under ${flow} (${requests} requests): ${(total / 1e6).toFixed(1)} s sampled${window ? ' while they ran' : ''}, ${((100 * idle) / total).toFixed(0)}% idle, ${(busy / requests).toFixed(0)} µs busy per request${cpuNote(run)}`,
    `  (${CAVEAT})`,
    'self time by owner (share of busy time):',
    ...top(byOwner, 14).map(([k, v]) => `  ${pct(v).padStart(6)}  ${k}`),
    'hottest functions (self time):',
    ...top(byFunction, 15).map(([k, v]) => `  ${pct(v).padStart(6)}  ${k}`),
    'on whose behalf the hottest Node and native functions ran (nearest caller outside Node):',
    ...top(byFunction, 15)
      .filter(([k]) => callers.has(k))
      .slice(0, 5)
      .map(([k]) => `  ${k}: ${top(callers.get(k)!, 4).map(([by, v]) => `${by} ${pct(v)}`).join(', ')}`),
    'our middleware and hooks (inclusive time):',
    ...OURS.filter((n) => ours.has(n)).map((n) => `  ${pct(ours.get(n)!).padStart(6)}  ${n}`),
  ];
  return lines.join('\n');
}
