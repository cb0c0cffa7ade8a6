// Golden bytes out of the real Windows headers: compiles golden.c with the x64 and x86 mingw-w64
// cross compilers, dumps each case's COFF section (`.golden.<case>`) with objcopy, and checks both
// targets agree. Plain .mjs so it runs as a script on Node 20 (no TypeScript stripping there).
//
//   node test/golden/extract.mjs           print the vectors as JSON
//   node test/golden/extract.mjs --write   regenerate test/golden/vectors.json

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE = join(here, 'golden.c');
export const VECTORS = join(here, 'vectors.json');

/** The cross toolchains, by the name `prefix-gcc` (binutils share the prefix). */
export const TARGETS = [
  { arch: 'x64', prefix: 'x86_64-w64-mingw32' },
  { arch: 'x86', prefix: 'i686-w64-mingw32' },
];
export const INSTALL_HINT = 'apt-get install gcc-mingw-w64-x86-64 gcc-mingw-w64-i686';

const SECTION_PREFIX = '.golden.';
const SIZEOF_HEADER = 144; // sizeof(SOCKET_PEER_TARGET_NAME)
const OFFSET_STRINGS = 140; // offsetof(SOCKET_PEER_TARGET_NAME, AllStrings)
// -pedantic-errors keeps golden.c in standard C11 (GNU attributes aside), so nothing it says
// depends on a compiler extension.
const CFLAGS = ['-c', '-O0', '-std=c11', '-pedantic-errors', '-Wall', '-Werror'];

function run(tool, args) {
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${tool}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited with ${result.status}\n${result.stderr}`);
  }
  return result.stdout;
}

function onPath(tool) {
  const result = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return !result.error && result.status === 0;
}

/** Tools this script needs that are not on PATH (empty when extraction can run). */
export function missingTools() {
  return TARGETS.flatMap(({ prefix }) => ['gcc', 'objcopy', 'objdump'].map((t) => `${prefix}-${t}`))
    .filter((tool) => !onPath(tool));
}

/** What made the vectors: both compilers' version lines and the mingw-w64 headers' version. */
export function toolVersions() {
  const versions = {};
  for (const { prefix } of TARGETS) {
    const gcc = `${prefix}-gcc`;
    versions[gcc] = run(gcc, ['--version']).split('\n')[0].trim();
  }
  const macros = spawnSync(`${TARGETS[0].prefix}-gcc`, ['-E', '-dM', '-x', 'c', '-'], {
    input: '#include <_mingw.h>\n',
    encoding: 'utf8',
  }).stdout ?? '';
  const part = (name) => macros.match(new RegExp(`#define __MINGW64_VERSION_${name} (\\d+)`))?.[1];
  if (part('MAJOR')) {
    versions['mingw-w64 headers'] = [part('MAJOR'), part('MINOR'), part('BUGFIX')].join('.');
  }
  return versions;
}

/** `objdump -h` rows for the golden sections, in file (= source) order. */
function goldenSections(prefix, object) {
  const lines = run(`${prefix}-objdump`, ['-h', object]).split('\n');
  const sections = [];
  for (let i = 0; i < lines.length; i++) {
    const row = lines[i].match(/^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s/);
    if (!row || !row[1].startsWith(SECTION_PREFIX)) continue;
    const flags = lines[i + 1] ?? '';
    // A relocation would mean the bytes are not final in the object file.
    if (!flags.includes('CONTENTS') || flags.includes('RELOC')) {
      throw new Error(`${object}: section ${row[1]} has flags "${flags.trim()}"`);
    }
    sections.push({ section: row[1], size: parseInt(row[2], 16) });
  }
  return sections;
}

/** Compiles golden.c for one target and returns each section's full contents. */
function compileTarget({ arch, prefix }, workDir) {
  const object = join(workDir, `golden-${arch}.o`);
  run(`${prefix}-gcc`, [...CFLAGS, '-o', object, SOURCE]);
  const sections = goldenSections(prefix, object);
  if (sections.length === 0) throw new Error(`${object}: no ${SECTION_PREFIX}* sections`);
  const dumpDir = join(workDir, `sections-${arch}`);
  mkdirSync(dumpDir, { recursive: true });
  const dumps = sections.map(({ section }) => [section, join(dumpDir, `${section.slice(1)}.bin`)]);
  // objcopy insists on an output object; a scratch file keeps it away from anything real.
  run(`${prefix}-objcopy`, [
    ...dumps.flatMap(([section, file]) => ['--dump-section', `${section}=${file}`]),
    object,
    join(workDir, `scratch-${arch}.o`),
  ]);
  const contents = new Map();
  for (const [i, [section, file]] of dumps.entries()) {
    const bytes = readFileSync(file);
    if (bytes.length !== sections[i].size) {
      throw new Error(`${section} (${arch}): dumped ${bytes.length} bytes, objdump says ${sections[i].size}`);
    }
    contents.set(section.slice(SECTION_PREFIX.length), bytes);
  }
  return contents;
}

/**
 * Cuts a case's record out of its section: 144 + 2n bytes, n = the name's UTF-16 units up to its
 * NUL (a target name never holds U+0000). Everything after the record must be zero, or the
 * section holds something the cut would silently drop.
 */
function recordOf(caseName, section) {
  let n = 0;
  while (OFFSET_STRINGS + 2 * n + 1 < section.length && section.readUInt16LE(OFFSET_STRINGS + 2 * n) !== 0) n++;
  const length = SIZEOF_HEADER + 2 * n;
  if (n === 0 || length > section.length) {
    throw new Error(`${caseName}: no NUL-terminated name inside its ${section.length}-byte section`);
  }
  const rest = section.subarray(length);
  const stray = rest.findIndex((b) => b !== 0);
  if (stray !== -1) throw new Error(`${caseName}: nonzero byte at ${length + stray}, past the record`);
  return section.subarray(0, length);
}

/**
 * Compiles golden.c for x64 and x86 and returns `{ [caseName]: hex }` in source order. The two
 * targets must produce identical sections. Work files go to `outDir` (kept) or to a temporary
 * directory (removed).
 */
export function extractGoldenVectors(outDir) {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')} (${INSTALL_HINT})`);
  }
  const workDir = outDir ?? mkdtempSync(join(tmpdir(), 'golden-'));
  mkdirSync(workDir, { recursive: true });
  try {
    // Records, not whole sections, are compared: section padding may follow each target's alignment.
    const [first, ...others] = TARGETS.map((target) => {
      const records = new Map();
      for (const [name, section] of compileTarget(target, workDir)) {
        records.set(name, recordOf(`${name} (${target.arch})`, section));
      }
      return { arch: target.arch, records };
    });
    return agreeingVectors(first, others);
  } finally {
    if (outDir === undefined) rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * The vectors every target agrees on, as hex by case name; throws if the targets' case lists or
 * bytes differ (x64 and x86 must lay the structs out alike). Shared with security-extract.mjs.
 */
export function agreeingVectors(first, others) {
  for (const other of others) {
    const names = (t) => [...t.records.keys()].join(', ');
    if (names(first) !== names(other)) {
      throw new Error(`case lists differ:\n  ${first.arch}: ${names(first)}\n  ${other.arch}: ${names(other)}`);
    }
    for (const [name, bytes] of first.records) {
      const theirs = other.records.get(name);
      if (!bytes.equals(theirs)) {
        const at = bytes.findIndex((b, i) => b !== theirs[i]);
        throw new Error(`${name}: ${first.arch} and ${other.arch} differ (lengths ${bytes.length}/${theirs.length}, first at offset ${at})`);
      }
    }
  }
  const vectors = {};
  for (const [name, bytes] of first.records) vectors[name] = bytes.toString('hex');
  return vectors;
}

/** The vectors.json document: `{ generatedBy, cases }`. */
export function goldenDocument(cases = extractGoldenVectors()) {
  return { generatedBy: toolVersions(), cases };
}

export function readCommittedVectors() {
  return JSON.parse(readFileSync(VECTORS, 'utf8'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const json = `${JSON.stringify(goldenDocument(), null, 2)}\n`;
  if (process.argv.includes('--write')) {
    writeFileSync(VECTORS, json);
    console.log(`wrote ${VECTORS}`);
  } else {
    process.stdout.write(json);
  }
}
