/** Reads a V8 .cpuprofile (as written by `node --cpu-prof`) and ranks functions by self time. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { componentOfStack } from './profile-components';
import type { ComponentFrame } from './profile-components';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeEntry {
  name: string;
  location: string;
  selfMs: number;
  /** Share of the non-idle samples. */
  percent: number;
  /** The nearest caller outside node's internals that accounts for most of this self time (names the user of native frames such as writev). */
  mainCaller: string;
}

export interface ComponentTime {
  component: string;
  busyMs: number;
  /** Share of the non-idle samples. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  top: SelfTimeEntry[];
  /** Busy time by component (`profile-components.ts`), largest first. */
  components: ComponentTime[];
}

/** A frame of frago's http layer: its first sample is the first request's. */
const FRAGO_HTTP = /[\\/]libs[\\/]chunked-upload[\\/](?:dist|src)[\\/]http[\\/]/;

function isCpuProfile(value: unknown): value is CpuProfile {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return Array.isArray(v.nodes) && Array.isArray(v.samples) && Array.isArray(v.timeDeltas);
}

/** The newest .cpuprofile in `dir` written by process `pid` (node names them CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
export function findProfile(dir: string, pid: number): string | null {
  if (!existsSync(dir)) return null;
  const candidates = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile') && name.split('.').includes(String(pid)))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0] ?? null;
}

function shortLocation(url: string, line: number, root: string): string {
  if (url === '') return '';
  let path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm >= 0) path = path.slice(nm + 1);
  else if (path.startsWith(root)) path = relative(root, path);
  return `${path}:${line + 1}`;
}

/** The nearest ancestor frame that is neither native nor inside node's own modules (`node:`). */
function firstUserCaller(node: ProfileNode, parentOf: Map<number, ProfileNode>): ProfileNode | undefined {
  let current = parentOf.get(node.id);
  for (let depth = 0; current !== undefined && depth < 64; depth++) {
    const url = current.callFrame.url;
    if (url !== '' && !url.startsWith('node:')) return current;
    current = parentOf.get(current.id);
  }
  return undefined;
}

export function summarizeProfile(file: string, root: string, topN = 15): ProfileSummary {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isCpuProfile(parsed)) throw new Error(`${file} is not a V8 CPU profile`);
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, ProfileNode>();
  for (const node of parsed.nodes) byId.set(node.id, node);
  for (const node of parsed.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  // Self time of a node = the time deltas of the samples taken while it was on top of the stack.
  const selfUs = new Map<string, { name: string; location: string; us: number; callers: Map<string, number> }>();
  const componentUs = new Map<string, number>();
  const stackOf = (node: ProfileNode): ComponentFrame[] => {
    const frames: ComponentFrame[] = [];
    for (let current: ProfileNode | undefined = node; current !== undefined && frames.length < 256; current = parentOf.get(current.id)) {
      frames.push(current.callFrame);
    }
    return frames;
  };
  let totalUs = 0;
  let idleUs = 0;
  const count = Math.min(parsed.samples.length, parsed.timeDeltas.length);
  // Start-up (compiling every module) is not what a row measures: count from the first request, the first sample in frago's http layer.
  const serving = (index: number): boolean => stackOf(byId.get(parsed.samples[index]) ?? parsed.nodes[0]).some((frame) => FRAGO_HTTP.test(frame.url));
  let first = 0;
  while (first < count && !serving(first)) first++;
  if (first === count) first = 0;
  for (let i = first; i < count; i++) {
    // V8 records the delta before sample i; attribute it to sample i.
    const delta = Math.max(0, parsed.timeDeltas[i]);
    const node = byId.get(parsed.samples[i]);
    if (node === undefined) continue;
    totalUs += delta;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += delta;
      continue;
    }
    const location = shortLocation(node.callFrame.url, node.callFrame.lineNumber, root);
    const key = `${name}\u0000${location}`;
    let entry = selfUs.get(key);
    if (entry === undefined) {
      entry = { name, location, us: 0, callers: new Map() };
      selfUs.set(key, entry);
    }
    entry.us += delta;
    const component = componentOfStack(stackOf(node));
    componentUs.set(component, (componentUs.get(component) ?? 0) + delta);
    // Samples whose stack holds no user frame (async I/O callbacks) count under '' (caller unknown).
    const parent = firstUserCaller(node, parentOf);
    const caller =
      parent === undefined
        ? ''
        : `${parent.callFrame.functionName || '(anonymous)'} ${shortLocation(parent.callFrame.url, parent.callFrame.lineNumber, root)}`.trim();
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + delta);
  }
  const busyUs = totalUs - idleUs;
  const top = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({
      name: e.name,
      location: e.location,
      selfMs: e.us / 1000,
      percent: busyUs > 0 ? (100 * e.us) / busyUs : 0,
      mainCaller: [...e.callers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
    }));
  const components = [...componentUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([component, us]) => ({ component, busyMs: us / 1000, percent: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return { file, totalMs: totalUs / 1000, idleMs: idleUs / 1000, top, components };
}

/**
 * The profile as text: the top functions by self time, then the busy time by component; with
 * `requests` (chunk requests the process served while profiled), also per request.
 */
export function renderProfile(title: string, summary: ProfileSummary, requests = 0): string {
  const busy = summary.totalMs - summary.idleMs;
  const lines = [
    `${title}: ${summary.file}`,
    `  ${(summary.totalMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (${(summary.idleMs / 1000).toFixed(1)} s idle); top self time:`,
  ];
  summary.top.forEach((e, i) => {
    const rank = String(i + 1).padStart(2);
    // Native frames and node's own functions are named by their nearest caller in user code.
    const internal = e.location === '' || e.location.startsWith('node:');
    const where = `${e.location !== '' ? `  ${e.location}` : ''}${internal && e.mainCaller !== '' ? `  ← ${e.mainCaller}` : ''}`;
    lines.push(`  ${rank}. ${e.selfMs.toFixed(0).padStart(7)} ms ${e.percent.toFixed(1).padStart(5)}%  ${e.name}${where}`);
  });
  const perRequest = requests > 0 ? ` (from the first request on; µs per chunk request: ${requests} requests, warm-up included)` : '';
  lines.push(`  busy time by component${perRequest}:`);
  for (const c of summary.components.filter((each) => each.percent >= 0.5)) {
    const us = requests > 0 ? `${((1000 * c.busyMs) / requests).toFixed(0).padStart(6)} µs  ` : '';
    lines.push(`    ${c.busyMs.toFixed(0).padStart(7)} ms ${c.percent.toFixed(1).padStart(5)}%  ${us}${c.component}`);
  }
  const total = requests > 0 ? `, ${((1000 * (summary.totalMs - summary.idleMs)) / requests).toFixed(0)} µs per chunk request` : '';
  lines.push(`    (components under 0.5 % not listed${total})`);
  return lines.join('\n');
}
