// The benchmarking harness: `peer-target-name bench --smoke` (every section once, tiny sizes, a few
// seconds) through the built bin, then the JSON must hold every case and every target ratio, and
// the SVG must be well-formed XML; the committed report of the last full run (docs/bench.json) must
// have the full run's shape.
// Run after `npm run build` (it needs dist/). The figures themselves are not judged here (this
// machine is shared and noisy); what is checked is that every figure is there, that every
// contender agreed on the bytes, and that each target's verdict matches its value.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host', 'tools', 'cli.js');

const RATIO_KEYS = [
  'codec_vs_js_unique', 'codec_vs_js_shared', 'single_vs_js', 'into_vs_js', 'validate_vs_js', 'decode_vs_js',
  'codec_vs_koffi_struct', 'kernel_vs_c',
  'bridge_object_vs_raw', 'bridge_bytes_vs_raw', 'known_peer_vs_map', 'memory_growth_bytes',
];

interface Case {
  section: string;
  workload?: string;
  id: string;
  status: 'ok' | 'excluded' | 'skipped';
  note?: string;
  rounds: number[];
  nsPerOp: { min: number; median: number; max: number } | null;
  opsPerSecond: number | null;
}

interface Report {
  quick: boolean;
  machine: Record<string, unknown>;
  cases: Case[];
  conformance: { ok: boolean }[];
  settings: { memoryOps: number };
  scaling: { peers: number; nsPerPeer: { median: number } }[];
  memory: {
    operations: number;
    growth: { rss: number; wasm: number; held: number; heapUsed: number; external: number };
    rss: { samples: number[]; min: number; max: number; firstHalfMedian: number; secondHalfMedian: number };
  };
  ratios: Record<string, number | null>;
  notes: string[];
  targets: Record<string, { value: number | null; target: number; comparison: string; met: boolean | null }>;
}

/**
 * A tiny well-formedness check (no XML library): every tag closes in order, attributes are
 * quoted, text holds no raw '<' and only known entities. Returns the element names in order.
 */
function checkXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const names: string[] = [];
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let rootClosed = false;
  while ((m = token.exec(body)) !== null) {
    const [whole, closing, name, , selfClosing, text, stray] = m;
    if (stray) throw new Error(`a '<' that opens no valid tag at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (whole.startsWith('<!--')) continue;
    if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root element: ${text.slice(0, 40)}`);
      const bad = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(text);
      if (bad) throw new Error(`a raw '&' in text: ${text.slice(0, 40)}`);
      continue;
    }
    if (rootClosed) throw new Error(`an element after the root closed: <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      if (stack.length === 0) rootClosed = true;
    } else {
      names.push(name);
      if (!selfClosing) stack.push(name);
      else if (stack.length === 0) rootClosed = true;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: <${stack.join('> <')}>`);
  if (!rootClosed) throw new Error('no root element');
  return names;
}

describe('bench --smoke', () => {
  let dir: string;
  let report: Report;
  let svg: string;
  let stdout: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ptn-bench-'));
    const started = Date.now();
    const r = spawnSync(process.execPath, [BIN, 'bench', '--smoke', '--json', join(dir, 'bench.json'), '--svg', join(dir, 'bench.svg'), '--no-progress'], {
      encoding: 'utf8', timeout: 170_000, maxBuffer: 16 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`bench exited ${r.status}: ${r.stderr}\n${r.stdout}`);
    stdout = r.stdout;
    report = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as Report;
    svg = readFileSync(join(dir, 'bench.svg'), 'utf8');
    // Not an assertion on speed, a record of it.
    console.log(`bench --smoke took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has every case, each measured (or skipped with a reason)', () => {
    expect(report.quick).toBe(true);
    const expected = [
      ...['unique', 'shared'].flatMap((w) => ['batch', 'single', 'into', 'ts', 'ts-bulk', 'ts-into', 'ts-single', 'koffi', 'c', 'floor', 'batch-floor'].map((id) => `codec/${w}/${id}`)),
      ...['unique', 'shared'].flatMap((w) => ['into-shipped', 'into-no-views', 'into-no-names', 'into-no-layout-memo', 'check-shipped', 'check-no-views'].map((id) => `caches/${w}/${id}`)),
      ...['unique', 'shared'].flatMap((w) => ['wasm', 'c'].map((id) => `kernel/${w}/${id}`)),
      ...['validate', 'decode', 'js-validate', 'js-decode'].map((id) => `read/-/${id}`),
      ...['raw', 'bytes', 'object', 'ensure-new', 'ensure-known', 'map-get', 'ensure-known-rinfo'].map((id) => `bridge/-/${id}`),
    ];
    const found = report.cases.map((c) => `${c.section}/${c.workload ?? '-'}/${c.id}`);
    expect(found.sort()).toEqual(expected.sort());
    for (const c of report.cases) {
      if (c.status === 'ok') {
        expect(c.rounds.length, `${c.section}/${c.id}`).toBeGreaterThan(0);
        expect(c.nsPerOp!.min).toBeGreaterThan(0);
        expect(c.nsPerOp!.min).toBeLessThanOrEqual(c.nsPerOp!.median);
        expect(c.nsPerOp!.median).toBeLessThanOrEqual(c.nsPerOp!.max);
        expect(c.opsPerSecond).toBeCloseTo(1e9 / c.nsPerOp!.median, 3);
      } else {
        expect(c.note, `${c.section}/${c.id} is ${c.status} without a reason`).toBeTruthy();
      }
    }
    // The package's own paths are always measured; nothing it produced disagreed.
    for (const id of ['codec/unique/batch', 'codec/shared/batch', 'codec/unique/single', 'kernel/unique/wasm']) {
      expect(report.cases.find((c) => `${c.section}/${c.workload ?? '-'}/${c.id}` === id)?.status).toBe('ok');
    }
    expect(report.conformance.length).toBeGreaterThan(0);
    expect(report.conformance.every((c) => c.ok)).toBe(true);
  });

  it('has the scaling run and the memory run', () => {
    expect(report.scaling.map((s) => s.peers)).toEqual([1e3, 1e4]); // --smoke's sizes
    for (const s of report.scaling) expect(s.nsPerPeer.median).toBeGreaterThan(0);
    expect(report.memory.operations).toBeGreaterThanOrEqual(report.settings.memoryOps);
    expect(typeof report.memory.growth.rss).toBe('number');
    expect(report.memory.growth.wasm).toBe(0);
    // The target's figure is the memory held: heap used plus external, after a full GC.
    expect(report.memory.growth.held).toBe(report.memory.growth.heapUsed + report.memory.growth.external);
    expect(report.ratios.memory_growth_bytes).toBe(report.memory.growth.held);
    // RSS is sampled through the run, and reported with its spread.
    expect(report.memory.rss.samples.length).toBeGreaterThan(0);
    expect(report.memory.rss.min).toBe(Math.min(...report.memory.rss.samples));
    expect(report.memory.rss.max).toBe(Math.max(...report.memory.rss.samples));
    expect(stdout).toMatch(/held \(heap used \+ external\)/);
  });

  it('has exactly the target ratios, each with a verdict that matches its value', () => {
    expect(Object.keys(report.ratios).sort()).toEqual([...RATIO_KEYS].sort());
    expect(Object.keys(report.targets).sort()).toEqual([...RATIO_KEYS].sort());
    for (const key of RATIO_KEYS) {
      const value = report.ratios[key];
      const t = report.targets[key];
      expect(t.value).toBe(value);
      if (value === null) {
        expect(t.met).toBeNull();
        continue;
      }
      expect(Number.isFinite(value)).toBe(true);
      expect(t.met).toBe(t.comparison === '>=' ? value >= t.target : value <= t.target);
      // Reported in the table, missed or not.
      expect(stdout).toContain(key);
    }
    for (const key of RATIO_KEYS.filter((k) => report.targets[k].met === false)) {
      expect(stdout).toMatch(new RegExp(`${key}.*MISSED`));
    }
    // Each ratio is the median of the per-round ratios of its two contenders (paired rounds).
    const rounds = (id: string) => report.cases.find((c) => `${c.section}/${c.workload ?? '-'}/${c.id}` === id)!.rounds;
    const paired = (a: string, b: string) => {
      const x = rounds(a);
      const y = rounds(b);
      expect(x.length).toBe(y.length);
      const r = x.map((ns, i) => y[i] / ns).sort((p, q) => p - q);
      const mid = r.length >> 1;
      return r.length % 2 ? r[mid] : (r[mid - 1] + r[mid]) / 2;
    };
    expect(report.ratios.validate_vs_js).toBeCloseTo(paired('read/-/validate', 'read/-/js-validate'), 2); // ratios are kept to 3 decimals
    expect(report.ratios.into_vs_js).toBeCloseTo(Math.min(paired('codec/unique/into', 'codec/unique/ts-into'), paired('codec/shared/into', 'codec/shared/ts-into')), 2);
    // The floors' ceilings are printed as notes.
    expect(report.notes.some((n) => /^ceiling of single_vs_js: .* \d+\.\d\d× \(unique names\)/.test(n))).toBe(true);
    expect(report.notes.some((n) => /^ceiling of codec_vs_js_\*: /.test(n))).toBe(true);
    // What each cache buys, from the same paired rounds.
    const caches = report.notes.find((n) => n.startsWith('what each cache buys'));
    const nameCache = /name cache (\d+\.\d\d)× \/ (\d+\.\d\d)×/.exec(caches ?? '');
    expect(nameCache, caches).not.toBeNull();
    expect(Number(nameCache![2])).toBeCloseTo(paired('caches/shared/into-shipped', 'caches/shared/into-no-names'), 1); // printed to 2 decimals
    expect(caches).toMatch(/view cache \(into\) .*, view cache \(check\) .*, name cache .*, layout memo \d+\.\d\d× \/ \d+\.\d\d×$/);
    // With a C compiler and the conformance library here, every ratio is measured.
    expect(report.ratios.codec_vs_js_unique).not.toBeNull();
    expect(report.ratios.codec_vs_js_shared).not.toBeNull();
    expect(report.ratios.codec_vs_koffi_struct).not.toBeNull();
  });

  it('writes a well-formed SVG bar chart', () => {
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(names.filter((n) => n === 'rect').length).toBeGreaterThan(10);
    for (const key of RATIO_KEYS) expect(svg).toContain(key);
  });

  it('the XML check itself refuses broken markup', () => {
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => checkXml('<svg width=1></svg>')).toThrow();
    expect(checkXml('<svg><g><rect x="1"/></g><text>a &amp; b</text></svg>')).toEqual(['svg', 'g', 'rect', 'text']);
  });
});

describe('the committed report of the last full run (docs/bench.json, the README\'s figures)', () => {
  const full = JSON.parse(readFileSync(join(ROOT, 'docs', 'bench.json'), 'utf8')) as Report;

  it('is a full run: scaling from 1e3 to 1e6 peers, 10 million operations in the memory run, 20 RSS samples', () => {
    expect(full.quick).toBe(false);
    expect(full.scaling.map((s) => s.peers)).toEqual([1e3, 1e4, 1e5, 1e6]);
    expect(full.memory.operations).toBeGreaterThanOrEqual(10_000_000);
    expect(full.memory.rss.samples).toHaveLength(20);
  });

  it('has every target ratio with the verdict its value gives, and every contender agreed on the bytes', () => {
    expect(Object.keys(full.targets).sort()).toEqual([...RATIO_KEYS].sort());
    for (const key of RATIO_KEYS) {
      const t = full.targets[key];
      if (t.value === null) continue;
      expect(t.met).toBe(t.comparison === '>=' ? t.value >= t.target : t.value <= t.target);
    }
    expect(full.conformance.every((c) => c.ok)).toBe(true);
  });
});
