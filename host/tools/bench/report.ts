// The benchmark's outputs: the JSON report's shape, the table printed on stdout and the SVG chart.
import type { Stats } from './timing.js';

export type RatioKey =
  | 'codec_vs_js_unique' | 'codec_vs_js_shared' | 'single_vs_js' | 'into_vs_js' | 'validate_vs_js' | 'decode_vs_js'
  | 'codec_vs_koffi_struct' | 'kernel_vs_c'
  | 'bridge_object_vs_raw' | 'bridge_bytes_vs_raw' | 'known_peer_vs_map' | 'memory_growth_bytes';

export const RATIO_KEYS: readonly RatioKey[] = [
  'codec_vs_js_unique', 'codec_vs_js_shared', 'single_vs_js', 'into_vs_js', 'validate_vs_js', 'decode_vs_js',
  'codec_vs_koffi_struct', 'kernel_vs_c',
  'bridge_object_vs_raw', 'bridge_bytes_vs_raw', 'known_peer_vs_map', 'memory_growth_bytes',
];

export interface TargetResult {
  value: number | null;
  target: number;
  comparison: '>=' | '<=';
  /** null when it could not be measured here (e.g. no C compiler, no native library). */
  met: boolean | null;
  description: string;
}

export interface ReportCase {
  section: string;
  workload: string | undefined;
  id: string;
  label: string;
  /** package: this package; contender: an alternative in JS; native: compiled code. */
  /** floor: no contender but what part of every contender's work costs by itself. */
  kind: 'package' | 'contender' | 'native' | 'floor';
  status: 'ok' | 'excluded' | 'skipped';
  note?: string;
  opsPerRound: number;
  rounds: number[];
  nsPerOp: Stats | null;
  opsPerSecond: number | null;
}

/** One reading after a full GC; `held` = heapUsed + external (external counts the WebAssembly memory). */
interface MemorySample { rss: number; heapUsed: number; external: number; wasm: number; held: number }

export interface BenchReport {
  package: { name: string; version: string };
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryBytes: number; os: string; arch: string; node: string; v8: string };
  settings: Record<string, number>;
  workloads: { name: string; description: string; peers: number; distinctNames: number }[];
  conformance: { section: string; workload: string; contender: string; checked: number; ok: boolean; firstMismatch?: number }[];
  cases: ReportCase[];
  scaling: { peers: number; nsPerPeer: Stats; rounds: number[] }[];
  memory: {
    operations: number;
    warmupOperations: number;
    what: string;
    before: MemorySample;
    after: MemorySample;
    growth: MemorySample;
    /** RSS after a full GC at every twentieth of the run. */
    rss: Stats & { samples: number[]; firstHalfMedian: number; secondHalfMedian: number };
  };
  ratios: Record<RatioKey, number | null>;
  targets: Record<RatioKey, TargetResult>;
  notes: string[];
  seconds: number;
}

const SECTION_TITLES: Record<string, string> = {
  codec: 'Codec, JS inputs to finished bytes',
  kernel: 'WebAssembly kernel alone (inputs already in memory) vs C',
  bridge: 'Bridge and registry (native calls through koffi)',
  read: 'Reading records: validate and decode of valid records',
  caches: 'What the caches buy (the same calls with one cache off)',
};

export function formatRate(opsPerSecond: number): string {
  if (opsPerSecond >= 1e9) return `${(opsPerSecond / 1e9).toFixed(2)} G`;
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)} M`;
  if (opsPerSecond >= 1e3) return `${(opsPerSecond / 1e3).toFixed(1)} k`;
  return opsPerSecond.toFixed(0);
}

const ns = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(2)} MiB`;

export function formatTarget(key: RatioKey, t: TargetResult): string {
  const value = t.value === null ? 'not measured'
    : key === 'memory_growth_bytes' ? `${t.value} B (${mib(t.value)})`
    : `${t.value.toFixed(2)}×`;
  const goal = key === 'memory_growth_bytes' ? `${t.comparison} ${mib(t.target)}` : `${t.comparison} ${t.target}×`;
  const verdict = t.met === null ? 'NOT MEASURED' : t.met ? 'met' : 'MISSED';
  return `${key.padEnd(24)} ${value.padStart(22)}   target ${goal.padEnd(12)} ${verdict}`;
}

export function machineLine(r: BenchReport): string {
  const m = r.machine;
  return `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.os} ${m.arch}, Node ${m.node} (V8 ${m.v8})`;
}

export function renderTable(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`${r.package.name} ${r.package.version} bench${r.quick ? ' --quick' : ''}, ${r.date}`);
  lines.push(machineLine(r));
  lines.push(`${r.settings.warmupRounds} warm-up + ${r.settings.rounds} interleaved rounds; figures per operation (one record, call or lookup)`);
  const bad = r.conformance.filter((c) => !c.ok);
  lines.push(bad.length === 0
    ? `same bytes: every contender agreed with the package on every input checked (${r.conformance.length} checks)`
    : `same bytes: ${bad.map((c) => `${c.section}/${c.workload}/${c.contender} differs at input ${c.firstMismatch}`).join('; ')} (excluded)`);
  const header = `  ${'contender'.padEnd(64)} ${'ops/s'.padStart(9)} ${'ns/op'.padStart(8)} ${'min'.padStart(8)} ${'median'.padStart(8)} ${'max'.padStart(8)}`;
  const groups: { title: string; cases: ReportCase[] }[] = [];
  for (const c of r.cases) {
    const workload = r.workloads.find((w) => w.name === c.workload);
    const title = `${SECTION_TITLES[c.section] ?? c.section}${workload ? ` — ${workload.description}` : ''}`;
    let g = groups.find((x) => x.title === title);
    if (!g) groups.push((g = { title, cases: [] }));
    g.cases.push(c);
  }
  for (const g of groups) {
    lines.push('', g.title, header);
    for (const c of g.cases) {
      if (c.status !== 'ok' || !c.nsPerOp || c.opsPerSecond === null) {
        lines.push(`  ${c.label.padEnd(64)} ${c.status}: ${c.note ?? ''}`);
        continue;
      }
      const s = c.nsPerOp;
      lines.push(`  ${c.label.padEnd(64)} ${formatRate(c.opsPerSecond).padStart(9)} ${ns(s.median).padStart(8)} ${ns(s.min).padStart(8)} ${ns(s.median).padStart(8)} ${ns(s.max).padStart(8)}`);
    }
  }
  lines.push('', 'Scaling — batch API, unique names: cost per peer', `  ${'peers'.padStart(10)} ${'ns/peer'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`);
  for (const s of r.scaling) {
    lines.push(`  ${s.peers.toLocaleString('en-US').padStart(10)} ${ns(s.nsPerPeer.median).padStart(8)} ${ns(s.nsPerPeer.min).padStart(8)} ${ns(s.nsPerPeer.max).padStart(8)}`);
  }
  if (r.scaling.length > 1) {
    const medians = r.scaling.map((s) => s.nsPerPeer.median);
    lines.push(`  spread: largest median / smallest median = ${(Math.max(...medians) / Math.min(...medians)).toFixed(2)}`);
  }
  const m = r.memory;
  lines.push('', `Memory — ${m.what}, after ${m.warmupOperations.toLocaleString('en-US')} warm-up records, GC before each reading`);
  const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${bytes} B`;
  lines.push(`  held (heap used + external) ${mib(m.before.held)} → ${mib(m.after.held)} (${signed(m.growth.held)}): ` +
    `heap used ${signed(m.growth.heapUsed)}, external ${signed(m.growth.external)}; WebAssembly memory ${mib(m.before.wasm)} → ${mib(m.after.wasm)}`);
  lines.push(`  RSS ${mib(m.before.rss)} → ${mib(m.after.rss)} (${signed(m.growth.rss)}); ${m.rss.samples.length} readings during the run: ` +
    `${mib(m.rss.min)} to ${mib(m.rss.max)}, median of the first half ${mib(m.rss.firstHalfMedian)}, of the second ${mib(m.rss.secondHalfMedian)}`);
  lines.push('', 'Targets (from this run; each ratio is the median of the per-round ratios of interleaved rounds)');
  for (const key of RATIO_KEYS) lines.push(`  ${formatTarget(key, r.targets[key])}`);
  for (const note of r.notes) lines.push(`note: ${note}`);
  lines.push(`(${r.seconds.toFixed(1)} s)`, '');
  return lines.join('\n');
}

// ---- SVG ------------------------------------------------------------------------------------------

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS: Record<ReportCase['kind'], string> = { package: '#2563eb', contender: '#9ca3af', native: '#f59e0b', floor: '#e5e7eb' };

/** A horizontal bar chart of operations per second (log scale), one group per section and workload, and the targets. */
export function renderSvg(r: BenchReport): string {
  // The label column fits the longest label (11px text: about 5.8px a character), so none is cut.
  const longest = Math.max(0, ...r.cases.map((c) => c.label.length));
  const labelWidth = Math.max(430, Math.ceil(longest * 5.8) + 20);
  const chartLeft = labelWidth + 10;
  const chartWidth = 440;
  const width = chartLeft + chartWidth + 110;
  const rowHeight = 18;
  const rows: string[] = [];
  let y = 58;
  const measured = r.cases.filter((c) => c.status === 'ok' && c.opsPerSecond);
  const maxRate = Math.max(1e6, ...measured.map((c) => c.opsPerSecond!));
  const minRate = Math.min(1e5, ...measured.map((c) => c.opsPerSecond!));
  const lo = Math.floor(Math.log10(minRate));
  const hi = Math.ceil(Math.log10(maxRate));
  const x = (rate: number) => chartLeft + ((Math.log10(rate) - lo) / (hi - lo)) * chartWidth;
  const groups = new Map<string, ReportCase[]>();
  for (const c of r.cases) {
    const key = `${c.section}|${c.workload ?? ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  const gridTop = y - 8;
  for (const [key, cases] of groups) {
    const [section, workload] = key.split('|');
    const w = r.workloads.find((x) => x.name === workload);
    rows.push(`<text x="10" y="${y + 4}" class="h">${escapeXml(`${SECTION_TITLES[section] ?? section}${w ? ` — ${w.description}` : ''}`)}</text>`);
    y += rowHeight + 2;
    for (const c of cases) {
      rows.push(`<text x="${labelWidth}" y="${y + 12}" class="l" text-anchor="end">${escapeXml(c.label)}</text>`);
      if (c.status === 'ok' && c.opsPerSecond) {
        const end = x(c.opsPerSecond);
        rows.push(`<rect x="${chartLeft}" y="${y + 2}" width="${Math.max(1, end - chartLeft).toFixed(1)}" height="${rowHeight - 5}" fill="${COLORS[c.kind]}"/>`);
        rows.push(`<text x="${(end + 4).toFixed(1)}" y="${y + 12}" class="v">${escapeXml(`${formatRate(c.opsPerSecond)}/s`)}</text>`);
      } else {
        rows.push(`<text x="${chartLeft + 4}" y="${y + 12}" class="v">${escapeXml(`${c.status}${c.note ? `: ${c.note.slice(0, 70)}` : ''}`)}</text>`);
      }
      y += rowHeight;
    }
    y += 8;
  }
  const grid: string[] = [];
  for (let p = lo; p <= hi; p++) {
    const gx = chartLeft + ((p - lo) / (hi - lo)) * chartWidth;
    grid.push(`<line x1="${gx.toFixed(1)}" y1="${gridTop}" x2="${gx.toFixed(1)}" y2="${y - 8}" class="g"/>`);
    grid.push(`<text x="${gx.toFixed(1)}" y="${gridTop - 4}" class="a" text-anchor="middle">${escapeXml(formatRate(10 ** p))}/s</text>`);
  }
  rows.push(`<text x="10" y="${y + 8}" class="h">Targets (same run)</text>`);
  y += rowHeight + 4;
  for (const key of Object.keys(r.targets) as RatioKey[]) {
    const t = r.targets[key];
    const color = t.met === null ? '#6b7280' : t.met ? '#15803d' : '#b91c1c';
    rows.push(`<text x="20" y="${y + 8}" class="t" fill="${color}">${escapeXml(formatTarget(key, t))}</text>`);
    y += rowHeight - 2;
  }
  y += 10;
  rows.push(`<text x="10" y="${y + 4}" class="a">${escapeXml(`${machineLine(r)}; ${r.date.slice(0, 10)}${r.quick ? ' (--quick)' : ''}; log scale, median of ${r.settings.rounds} rounds`)}</text>`);
  const height = y + 16;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<style>.h{font-size:13px;font-weight:600}.l{font-size:11px}.v{font-size:11px;fill:#111827}.a{font-size:10px;fill:#6b7280}.t{font-size:11px;font-family:ui-monospace,monospace;white-space:pre}.g{stroke:#e5e7eb;stroke-width:1}</style>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" class="h">${escapeXml(`${r.package.name} ${r.package.version}: operations per second (higher is better)`)}</text>`,
    `<g>${[...grid].join('')}</g>`,
    ...rows,
    `</svg>`,
    '',
  ].join('\n');
}
