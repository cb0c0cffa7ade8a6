// The C reference: the codec's kernel written once more in plain C, compiled at run time with
// `-O3 -march=native` where a C compiler exists, and loaded through koffi. It reads the very input
// records the WebAssembly kernel reads (the same ABI, from a copy of the same memory image, every
// constant from the generated layout) and does the same work: parse the peer texts, check and copy
// the names, lay the records out. So "kernel vs C" compares like with like, and the outputs are
// compared byte for byte before anything is timed.
//
// Written for speed, as a good C engineer would: one pass over each text (no pre-scan for colons or
// '%'), inet_pton-style parsing with a hex table, no library call per record (fixed-size zeroing
// the compiler inlines, no memchr), and the ASCII name widened and checked for U+0000 in one loop
// the compiler vectorises (C_VECTORISED names it; `-fopt-info-vec` confirms it at build time).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import * as L from '../../generated/layout.js';

const SOURCE = String.raw`
#include <stdint.h>
#include <string.h>
#include "layout.h"

typedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;
static u32 fail_detail;
static inline int fail(int reason, u32 detail) { fail_detail = detail; return reason; }
static inline u16 rd16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static inline u32 rd32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline u64 rd64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }
static inline void wr16(u8 *p, u16 v) { memcpy(p, &v, 2); }
static inline void wr32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static inline void wr64(u8 *p, u64 v) { memcpy(p, &v, 8); }

static int parse_ipv4(const u8 *p, const u8 *end, u8 *out) {
  for (int i = 0; i < 4; i++) {
    if (i > 0) { if (p >= end || *p != '.') return 0; p++; }
    int digits = 0; u32 value = 0;
    while (p < end) {
      u32 d = (u32)*p - '0';
      if (d > 9) break;
      if (digits > 0 && value == 0) return 0;
      value = value * 10 + d;
      if (++digits > 3) return 0;
      p++;
    }
    if (digits == 0 || value > 255) return 0;
    out[i] = (u8)value;
  }
  return p == end;
}

/* Hex digit value + 1 by byte; 0 for anything that is no hex digit. */
static const u8 HEX1[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
  ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
  ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};
static inline int hexval(u32 c) { return (int)HEX1[c] - 1; }

/* Parses IPv6 text from p up to end or a '%' (a zone); the stop in *stop, 0 when it is no address. */
static int parse_ipv6(const u8 *p, const u8 *end, u8 *out, const u8 **stop) {
  u8 groups[16];
  int count = 0, gap = -1;
  if (p == end || *p == '%') return 0;
  if (*p == ':') { if (p + 1 >= end || p[1] != ':') return 0; gap = 0; p += 2; }
  while (p < end && *p != '%') {
    if (count == 8) return 0;
    const u8 *q = p; u32 value = 0;
    while (q < end) { int h = hexval(*q); if (h < 0) break; value = (value << 4) | (u32)h; q++; if (q - p > 4) return 0; }
    if (q < end && *q == '.') {
      const u8 *qe = q;
      while (qe < end && *qe != '%') qe++;
      if (count > 6 || !parse_ipv4(p, qe, groups + count * 2)) return 0;
      count += 2; p = qe; break;
    }
    if (q == p) return 0;
    groups[count * 2] = (u8)(value >> 8); groups[count * 2 + 1] = (u8)value;
    count++; p = q;
    if (p == end || *p == '%') break;
    if (*p != ':') return 0;
    p++;
    if (p < end && *p == ':') { if (gap >= 0) return 0; gap = count; p++; }
    else if (p == end || *p == '%') return 0;
  }
  *stop = p;
  if (gap < 0) { if (count != 8) return 0; memcpy(out, groups, 16); }
  else {
    if (count > 7) return 0;
    int head = gap * 2, tail = (count - gap) * 2;
    u8 full[16] = {0};
    for (int i = 0; i < head; i++) full[i] = groups[i];
    for (int i = 0; i < tail; i++) full[16 - tail + i] = groups[head + i];
    memcpy(out, full, 16);
  }
  return 1;
}

static long long parse_decimal(const u8 *p, const u8 *end, u64 limit) {
  if (p == end) return -1;
  u64 value = 0;
  for (; p < end; p++) { u32 d = (u32)*p - '0'; if (d > 9) return -1; value = value * 10 + d; if (value > limit) return -2; }
  return (long long)value;
}

static inline int zone_char(u32 c) { return c - '0' < 10 || (c | 0x20) - 'a' < 26 || c == '-' || c == '.' || c == ':'; }

static int write_address(const u8 *start, const u8 *end, u32 port, u32 flow, u32 scope_id, u32 flags, u8 *out) {
  if ((u32)(end - start) > PTN_MAX_PEER_TEXT_LENGTH) return fail(PTN_REASON_PEER_TEXT_TOO_LONG, (u32)(end - start));
  // IPv4 first, over the whole text: it stops at the first byte that is not a digit or a dot.
  if (parse_ipv4(start, end, out + PTN_SIN_ADDR)) {
    if (flags & PTN_FLAG_FAMILY_IPV6) return fail(PTN_REASON_FAMILY_MISMATCH, PTN_AF_INET);
    if (flow != 0) return fail(PTN_REASON_FLOWINFO_ON_IPV4, flow);
    if (scope_id != 0) return fail(PTN_REASON_SCOPE_ON_IPV4, scope_id);
    wr16(out + PTN_SIN_FAMILY, PTN_AF_INET);
    wr16(out + PTN_SIN_PORT, __builtin_bswap16((u16)port));
    return 0;
  }
  wr32(out + PTN_SIN_ADDR, 0);
  const u8 *zone_at = end;
  if (!parse_ipv6(start, end, out + PTN_SIN6_ADDR, &zone_at)) {
    // An IPv4 address with a zone is a syntax error as well.
    memset(out, 0, PTN_SIZE_SOCKADDR_STORAGE); return fail(PTN_REASON_ADDRESS_SYNTAX, 0);
  }
  if (flags & PTN_FLAG_FAMILY_IPV4) { memset(out, 0, PTN_SIZE_SOCKADDR_STORAGE); return fail(PTN_REASON_FAMILY_MISMATCH, PTN_AF_INET6); }
  u32 scope = scope_id;
  if (zone_at < end) {
    const u8 *zs = zone_at + 1;
    if (zs == end) return fail(PTN_REASON_ADDRESS_SYNTAX, (u32)(zone_at - start));
    int numeric = 1;
    for (const u8 *p = zs; p < end; p++) { if (!zone_char(*p)) return fail(PTN_REASON_ADDRESS_SYNTAX, (u32)(p - start)); if ((u32)*p - '0' >= 10) numeric = 0; }
    if (!numeric) return fail(PTN_REASON_ZONE_NAMED, (u32)(zs - start));
    long long zone = parse_decimal(zs, end, 0xffffffffu);
    if (zone < 0) return fail(PTN_REASON_ZONE_RANGE, 0);
    if ((flags & PTN_FLAG_SCOPE_GIVEN) && (u32)zone != scope_id) return fail(PTN_REASON_ZONE_CONFLICT, (u32)zone);
    scope = (u32)zone;
  }
  wr16(out + PTN_SIN6_FAMILY, PTN_AF_INET6);
  wr16(out + PTN_SIN6_PORT, __builtin_bswap16((u16)port));
  wr32(out + PTN_SIN6_FLOWINFO, __builtin_bswap32(flow));
  wr32(out + PTN_SIN6_SCOPE_ID, scope);
  return 0;
}

static int write_peer_text(const u8 *start, const u8 *end, u8 *out) {
  if ((u32)(end - start) > PTN_MAX_PEER_TEXT_LENGTH) return fail(PTN_REASON_PEER_TEXT_TOO_LONG, (u32)(end - start));
  const u8 *as = start, *ae, *ps;
  if (start < end && *start == '[') {
    as = start + 1;
    const u8 *close = as;
    while (close < end && *close != ']') close++;
    if (close == end) return fail(PTN_REASON_PEER_SYNTAX, (u32)(end - start));
    ae = close;
    if (close + 1 >= end || close[1] != ':') return fail(PTN_REASON_PEER_SYNTAX, (u32)(close + 1 - start));
    ps = close + 2;
  } else {
    // The port is after the last colon, read from the end; the address before it is parsed as
    // IPv4 below, which stops at any other colon (then the colons are counted, for the detail).
    const u8 *colon = end;
    while (colon > start && colon[-1] != ':') colon--;
    if (colon == start) return fail(PTN_REASON_PEER_SYNTAX, 0);
    ae = colon - 1; ps = colon;
    if (!parse_ipv4(start, ae, out + PTN_SIN_ADDR)) {
      u32 colons = 0;
      for (const u8 *p = start; p < end; p++) colons += *p == ':';
      if (colons != 1) { wr32(out + PTN_SIN_ADDR, 0); return fail(PTN_REASON_PEER_SYNTAX, colons); }
    }
  }
  long long port = parse_decimal(ps, end, 65535);
  if (port == -2) return fail(PTN_REASON_PORT_RANGE, 0);
  if (port < 0) return fail(PTN_REASON_PEER_SYNTAX, (u32)(ps - start));
  int reason = write_address(as, ae, (u32)port, 0, 0, 0, out);
  if (reason == 0 && as != start && rd16(out + PTN_SIN_FAMILY) == PTN_AF_INET) {
    memset(out, 0, PTN_SIZE_SOCKADDR_STORAGE);
    return fail(PTN_REASON_PEER_SYNTAX, 0);
  }
  return reason;
}

static int unreachable_peer(const u8 *peer) {
  if (rd16(peer) == PTN_AF_INET) {
    if (rd32(peer + PTN_SIN_ADDR) == 0) return fail(PTN_REASON_ADDRESS_UNSPECIFIED, 0);
    if (rd16(peer + PTN_SIN_PORT) == 0) return fail(PTN_REASON_PORT_ZERO, 0);
  } else {
    u64 high = rd64(peer + PTN_SIN6_ADDR), low = rd64(peer + PTN_SIN6_ADDR + 8);
    if (high == 0 && (low == 0 || low == 0xffff0000ull)) return fail(PTN_REASON_ADDRESS_UNSPECIFIED, 0);
    if (rd16(peer + PTN_SIN6_PORT) == 0) return fail(PTN_REASON_PORT_ZERO, 0);
  }
  return 0;
}

static int write_peer(const u8 *base, const u8 *rec, u8 *out, int stream) {
  u32 flags = rd32(rec + PTN_IN_FLAGS), kind = flags & PTN_FLAG_PEER_MASK;
  if (kind == PTN_PEER_NONE) return stream ? 0 : fail(PTN_REASON_PEER_MISSING, 0);
  const u8 *text = base + rd32(rec + PTN_IN_ADDRESS_PTR);
  const u8 *text_end = text + rd32(rec + PTN_IN_ADDRESS_LENGTH);
  int reason;
  if (kind == PTN_PEER_TEXT) reason = write_peer_text(text, text_end, out);
  else {
    u32 port = rd32(rec + PTN_IN_PORT);
    if (port > 0xffff) return fail(PTN_REASON_PORT_RANGE, port);
    reason = write_address(text, text_end, port, rd32(rec + PTN_IN_FLOWINFO), rd32(rec + PTN_IN_SCOPE_ID), flags, out);
  }
  if (reason != 0 || stream) return reason;
  return unreachable_peer(out);
}

static int check_name(const u8 *src, u32 n, u32 max_units) {
  if (n == 0) return fail(PTN_REASON_NAME_EMPTY, 0);
  if (n > max_units) return fail(PTN_REASON_NAME_TOO_LONG, n);
  for (u32 i = 0; i < n; i++) {
    u32 u = rd16(src + 2 * i);
    if (u - 1 >= 0xd7ff) {
      if (u == 0) return fail(PTN_REASON_NAME_NUL, i);
      if (u < 0xe000) {
        if (u >= 0xdc00 || i + 1 >= n || (u32)rd16(src + 2 * i + 2) - 0xdc00 >= 0x400) return fail(PTN_REASON_NAME_SURROGATE, i);
        i++;
      }
    }
  }
  return 0;
}

typedef u16 u16a __attribute__((may_alias, aligned(2)));

/* Widens n ASCII bytes to UTF-16LE and returns the smallest byte (0: the name holds U+0000). Vectorised. */
static u8 widen_ascii(u16a *restrict to, const u8 *restrict from, u32 n) {
  u8 low = 0xff;
  for (u32 i = 0; i < n; i++) { u8 c = from[i]; low = c < low ? c : low; to[i] = c; }
  return low;
}

static int encode_one(const u8 *base, const u8 *rec, u8 *restrict dst, int stream, u32 policy, u32 max_units) {
  u32 protocol = rd32(rec + PTN_IN_PROTOCOL);
  if (protocol > PTN_PROTOCOL_MAX) return fail(PTN_REASON_PROTOCOL_RANGE, protocol);
  memset(dst, 0, PTN_SIZEOF_PEER_TARGET_NAME); /* a constant size: inlined vector stores */
  int reason = write_peer(base, rec, dst + PTN_OFFSET_PEER, stream);
  if (reason) return reason;
  u32 n = rd32(rec + PTN_IN_NAME_LENGTH);
  const u8 *name = base + rd32(rec + PTN_IN_NAME_PTR);
  int ascii = (rd32(rec + PTN_IN_FLAGS) & PTN_FLAG_NAME_ASCII) != 0;
  if (n == 0) return fail(PTN_REASON_NAME_EMPTY, 0);
  if (n > max_units) return fail(PTN_REASON_NAME_TOO_LONG, n);
  if (!ascii && (reason = check_name(name, n, max_units)) != 0) return reason;
  u32 size = PTN_SIZEOF_PEER_TARGET_NAME + 2 * n;
  u32 aligned = (size + PTN_RECORD_ALIGN - 1) & ~(u32)(PTN_RECORD_ALIGN - 1);
  /* The NUL and the alignment padding: the last 8 bytes of the record and the 4 after the name
     (the name, written next, overwrites what these cover of it). */
  wr64(dst + aligned - 8, 0);
  wr32(dst + PTN_OFFSET_STRINGS + 2 * n, 0);
  u8 *to = dst + PTN_OFFSET_STRINGS;
  if (ascii) {
    if (widen_ascii((u16a *)to, name, n) == 0) {
      u32 at = 0;
      while (name[at] != 0) at++;
      return fail(PTN_REASON_NAME_NUL, at);
    }
  } else {
    memcpy(to, name, (size_t)n << 1);
  }
  wr32(dst + PTN_OFFSET_PROTOCOL, protocol);
  u32 unit = policy != PTN_LENGTH_UNIT_AUTO ? policy : protocol == PTN_PROTOCOL_IPSEC2 ? PTN_LENGTH_UNIT_BYTES : PTN_LENGTH_UNIT_UNITS;
  wr32(dst + PTN_OFFSET_STRING_LENGTH, unit == PTN_LENGTH_UNIT_BYTES ? n << 1 : n);
  return 0;
}

/** The same contract as the WebAssembly export encode_batch; offsets are into base. */
u32 ref_encode_batch(u8 *base, u32 input, u32 count, u32 out, u32 status, u32 options, u32 max_units) {
  int stream = (options & PTN_OPT_SOCKET_MASK) == PTN_OPT_SOCKET_STREAM;
  u32 policy = (options >> PTN_OPT_UNIT_SHIFT) & 3;
  u32 used = 0;
  for (u32 i = 0; i < count; i++) {
    const u8 *rec = base + input + i * PTN_SIZEOF_INPUT;
    u8 *st = base + status + i * PTN_SIZEOF_STATUS;
    int reason = encode_one(base, rec, base + out + used, stream, policy, max_units);
    wr32(st + PTN_ST_OFFSET, used);
    wr32(st + PTN_ST_REASON, (u32)reason);
    if (reason == 0) {
      u32 size = PTN_SIZEOF_PEER_TARGET_NAME + (rd32(rec + PTN_IN_NAME_LENGTH) << 1);
      wr32(st + PTN_ST_LENGTH, size);
      wr32(st + PTN_ST_DETAIL, 0);
      used += (size + PTN_RECORD_ALIGN - 1) & ~(u32)(PTN_RECORD_ALIGN - 1);
    } else {
      wr32(st + PTN_ST_LENGTH, 0);
      wr32(st + PTN_ST_DETAIL, fail_detail);
    }
  }
  return used;
}

/** Runs ref_encode_batch repeat times and returns the nanoseconds it took (timed in C, no FFI in the loop). */
u64 ref_time_batch(u8 *base, u32 input, u32 count, u32 out, u32 status, u32 options, u32 max_units, u32 repeat);
#include <time.h>
u64 ref_time_batch(u8 *base, u32 input, u32 count, u32 out, u32 status, u32 options, u32 max_units, u32 repeat) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (u32 r = 0; r < repeat; r++) {
    ref_encode_batch(base, input, count, out, status, options, max_units);
    __asm__ volatile("" ::: "memory");
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (u64)(b.tv_sec - a.tv_sec) * 1000000000ull + (u64)(b.tv_nsec - a.tv_nsec);
}
`;

/** The generated layout, as a C header: every constant the codec uses, from the one source of truth. */
function layoutHeader(): string {
  const lines = ['#ifndef PTN_BENCH_LAYOUT_H', '#define PTN_BENCH_LAYOUT_H'];
  for (const [name, value] of Object.entries(L)) {
    if (typeof value === 'number') lines.push(`#define PTN_${name} (${value})`);
  }
  lines.push('#endif', '');
  return lines.join('\n');
}

export interface CReference {
  compiler: string;
  flags: string[];
  /** Whether the compiler reported the ASCII name loop vectorised (undefined: it does not say, e.g. clang). */
  vectorised: boolean | undefined;
  /** encode_batch over a memory image (offsets as in the WebAssembly memory it was copied from). */
  encodeBatch(base: Uint8Array, input: number, count: number, out: number, status: number, options: number, maxUnits: number): number;
  /** Nanoseconds for `repeat` back-to-back batches, timed inside C. */
  timeBatch(base: Uint8Array, input: number, count: number, out: number, status: number, options: number, maxUnits: number, repeat: number): number;
}

export const C_FLAGS = ['-O3', '-march=native', '-fPIC', '-shared', '-std=c11', '-D_POSIX_C_SOURCE=199309L'];

/** Compiles and loads the reference, or says why it cannot (no compiler, Windows, no koffi). */
export function loadCReference(): CReference | { unavailable: string } {
  if (process.platform === 'win32') return { unavailable: 'the C reference is built with a POSIX C compiler; none is used on Windows' };
  const env = process.env.CC?.trim();
  const compiler = [...new Set([...(env ? [env] : []), 'cc', 'gcc', 'clang'])].find((c) => {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    return !r.error && r.status === 0;
  });
  if (compiler === undefined) return { unavailable: 'no C compiler found (tried $CC, cc, gcc, clang)' };
  const dir = mkdtempSync(join(tmpdir(), 'ptn-bench-'));
  try {
    writeFileSync(join(dir, 'layout.h'), layoutHeader());
    writeFileSync(join(dir, 'reference.c'), SOURCE);
    const library = join(dir, process.platform === 'darwin' ? 'reference.dylib' : 'reference.so');
    let r = spawnSync(compiler, [...C_FLAGS, '-fopt-info-vec-optimized', '-I', dir, '-o', library, join(dir, 'reference.c')], { encoding: 'utf8' });
    if (r.error || r.status !== 0) r = spawnSync(compiler, [...C_FLAGS, '-I', dir, '-o', library, join(dir, 'reference.c')], { encoding: 'utf8' }); // not GCC
    if (r.error || r.status !== 0) return { unavailable: `${compiler} failed: ${(r.stderr || String(r.error)).trim().split('\n')[0]}` };
    // GCC's report names the lines of every loop it vectorised: is the name loop one of them?
    const widenLine = SOURCE.split('\n').findIndex((line) => line.includes('to[i] = c;')) + 1;
    const vectorised = /vectorized|vectorised/.test(r.stderr) ? new RegExp(`reference\\.c:${widenLine}:\\d+: optimized: loop vectorized`).test(r.stderr) : undefined;
    let koffi: { load(path: string): { func(signature: string): (...args: unknown[]) => unknown } };
    try {
      koffi = createRequire(import.meta.url)('koffi');
    } catch (error) {
      return { unavailable: `koffi could not be loaded: ${(error as Error).message}` };
    }
    const lib = koffi.load(library);
    const encode = lib.func('uint32_t ref_encode_batch(uint8_t *base, uint32_t input, uint32_t count, uint32_t out, uint32_t status, uint32_t options, uint32_t maxUnits)');
    const time = lib.func('uint64_t ref_time_batch(uint8_t *base, uint32_t input, uint32_t count, uint32_t out, uint32_t status, uint32_t options, uint32_t maxUnits, uint32_t repeat)');
    return {
      compiler,
      flags: C_FLAGS.filter((f) => f.startsWith('-O') || f.startsWith('-march')),
      vectorised,
      encodeBatch: (...args) => encode(...args) as number,
      timeBatch: (...args) => Number(time(...args)),
    };
  } finally {
    // The library stays mapped after its file is gone (POSIX), so nothing is left behind.
    rmSync(dir, { recursive: true, force: true });
  }
}
