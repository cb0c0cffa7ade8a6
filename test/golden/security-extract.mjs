// Golden bytes for the WSASetSocketSecurity / WSAQuerySocketSecurity structs out of the real
// Windows headers: the sibling of extract.mjs (whose record cutting is specific to
// SOCKET_PEER_TARGET_NAME). Compiles security-golden.c with the x64 and x86 mingw-w64 cross
// compilers, dumps each case's `.sec.<case>` (record) and `.seclen.<case>` (its length) sections,
// and checks both targets agree. Reuses extract.mjs's toolchain list and checks.
//
//   node test/golden/security-extract.mjs           print the vectors as JSON
//   node test/golden/security-extract.mjs --write   regenerate test/golden/security-vectors.json
//
// security-golden.c includes build/generated/layout.h (made by `node build/layout.mjs`, part of
// `npm run build`), so the layout constants are asserted against the headers on every extraction.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { TARGETS, INSTALL_HINT, agreeingVectors, missingTools, toolVersions } from './extract.mjs';

export { INSTALL_HINT, missingTools };

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE = join(here, 'security-golden.c');
export const VECTORS = join(here, 'security-vectors.json');
export const LAYOUT_DIR = join(here, '..', '..', 'build', 'generated');

const RECORD_PREFIX = '.sec.';
const LENGTH_PREFIX = '.seclen.';
const CFLAGS = ['-c', '-O0', '-std=c11', '-pedantic-errors', '-Wall', '-Werror', '-I', LAYOUT_DIR];

function run(tool, args) {
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${tool}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited with ${result.status}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Compiles for one target; returns `Map<case, Buffer>` (the record cut to its length), in source order. */
function compileTarget({ arch, prefix }, workDir) {
  const object = join(workDir, `security-${arch}.o`);
  run(`${prefix}-gcc`, [...CFLAGS, '-o', object, SOURCE]);
  const sections = [];
  for (const line of run(`${prefix}-objdump`, ['-h', object]).split('\n')) {
    const row = line.match(/^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s/);
    if (row && (row[1].startsWith(RECORD_PREFIX) || row[1].startsWith(LENGTH_PREFIX))) {
      sections.push({ section: row[1], size: parseInt(row[2], 16) });
    }
  }
  if (sections.length === 0) throw new Error(`${object}: no ${RECORD_PREFIX}* sections`);
  const dumpDir = join(workDir, `security-sections-${arch}`);
  mkdirSync(dumpDir, { recursive: true });
  const dumps = sections.map(({ section }) => [section, join(dumpDir, `${section.slice(1)}.bin`)]);
  run(`${prefix}-objcopy`, [
    ...dumps.flatMap(([section, file]) => ['--dump-section', `${section}=${file}`]),
    object,
    join(workDir, `security-scratch-${arch}.o`),
  ]);
  const contents = new Map(dumps.map(([section, file], i) => {
    const bytes = readFileSync(file);
    if (bytes.length !== sections[i].size) {
      throw new Error(`${section} (${arch}): dumped ${bytes.length} bytes, objdump says ${sections[i].size}`);
    }
    return [section, bytes];
  }));
  const records = new Map();
  for (const [section, storage] of contents) {
    if (!section.startsWith(RECORD_PREFIX)) continue;
    const name = section.slice(RECORD_PREFIX.length);
    const lengthSection = contents.get(LENGTH_PREFIX + name);
    if (lengthSection === undefined || lengthSection.length < 4) throw new Error(`${name} (${arch}): no length section`);
    const length = lengthSection.readUInt32LE(0);
    if (length === 0 || length > storage.length) {
      throw new Error(`${name} (${arch}): length ${length} does not fit its ${storage.length}-byte section`);
    }
    const stray = storage.subarray(length).findIndex((b) => b !== 0);
    if (stray !== -1) throw new Error(`${name} (${arch}): nonzero byte at ${length + stray}, past the record`);
    records.set(name, storage.subarray(0, length));
  }
  return records;
}

/**
 * Compiles security-golden.c for x64 and x86 and returns `{ [caseName]: hex }` in source order.
 * The targets must produce identical records. Work files go to `outDir` (kept) or a temporary
 * directory (removed).
 */
export function extractSecurityVectors(outDir) {
  const missing = missingTools();
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')} (${INSTALL_HINT})`);
  if (!existsSync(join(LAYOUT_DIR, 'layout.h'))) {
    throw new Error(`${join(LAYOUT_DIR, 'layout.h')} is missing: run \`npm run build\` (or \`node build/layout.mjs\`) first`);
  }
  const workDir = outDir ?? mkdtempSync(join(tmpdir(), 'security-golden-'));
  mkdirSync(workDir, { recursive: true });
  try {
    const [first, ...others] = TARGETS.map((target) => ({ arch: target.arch, records: compileTarget(target, workDir) }));
    return agreeingVectors(first, others);
  } finally {
    if (outDir === undefined) rmSync(workDir, { recursive: true, force: true });
  }
}

/** The security-vectors.json document: `{ generatedBy, cases }`. */
export function securityDocument(cases = extractSecurityVectors()) {
  return { generatedBy: toolVersions(), cases };
}

export function readCommittedSecurityVectors() {
  return JSON.parse(readFileSync(VECTORS, 'utf8'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const json = `${JSON.stringify(securityDocument(), null, 2)}\n`;
  if (process.argv.includes('--write')) {
    writeFileSync(VECTORS, json);
    console.log(`wrote ${VECTORS}`);
  } else {
    process.stdout.write(json);
  }
}
