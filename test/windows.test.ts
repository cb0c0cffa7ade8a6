// The Windows lane: the package's Windows path, run by the Windows builds of Node (x64 and x86)
// under Wine, against the conformance library's Winsock build installed in the prefix as
// fwpuclnt.dll (Wine's own fwpuclnt.dll only stubs these functions: a call aborts the process).
// Everything in one node.exe per step: a Wine start costs about a second.
//
// It needs Wine (wine, wine64, wine32:i386) and mingw-w64 (gcc-mingw-w64-x86-64, -i686); without
// them every test here FAILS with what to install (.ci/run installs them), never skips.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWine, setupLane, installDll, runNode, type Arch, type RunResult } from './windows/wine.mjs';
import { buildWindowsConformanceLibrary } from '../build/conformance.mjs';
import { goldenCases } from './golden/cases.js';

const CHECKS = [
  'platform',
  'openBridge() loads fwpuclnt.dll and ws2_32.dll by name',
  'socketHandle: udp4 and udp6 give their own SOCKETs',
  'socketHandle: an unbound socket is a typed error, not a handle',
  'golden vectors arrive byte-exact at fwpuclnt.dll, on the socketHandle SOCKET',
  'every documented error comes back through WSAGetLastError as a WinsockError',
  'the DLL applies the rules to real Winsock sockets: ENOTSOCK, ISCONN, MSGSIZE, EFAULT',
  'async calls: 64 in flight on worker threads, each its own bytes, errors per thread',
  'createSecureSocket udp4: security before bind, then an ordinary Node socket',
  'createSecureSocket udp6: security before bind, then an ordinary Node socket',
  'doctor: Fwpuclnt.dll by name, every function, the length unit per protocol',
];

interface Check { name: string; ok: boolean; detail: unknown }

const scratch = mkdtempSync(join(tmpdir(), 'ptn-windows-'));
const goldenFile = join(scratch, 'golden.json');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function parseJson<T>(run: RunResult, what: string): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`${what}: node.exe exited ${run.status}${run.timedOut ? ' (timed out)' : ''} without JSON.\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 4000)}`);
  }
}

for (const arch of ['x64', 'x86'] as Arch[]) {
  describe(`Windows ${arch} (Node for Windows under Wine)`, () => {
    let laneError: Error | undefined;
    const ready = () => {
      if (laneError) throw laneError;
    };
    const run = (script: string, args: string[], env?: Record<string, string>) =>
      runNode(arch, script, args, { dllOverrides: { fwpuclnt: 'n' }, timeoutMs: 180_000, env });
    let checks: Map<string, Check>;

    beforeAll(async () => {
      try {
        const wine = checkWine(arch);
        if (!wine.ok) {
          throw new Error(`!! THE WINDOWS LANE CANNOT RUN: Wine is missing (${wine.missing.join(', ')}). Install it: ${wine.install}`);
        }
        await setupLane(arch);
        const dll = buildWindowsConformanceLibrary(arch);
        installDll(arch, dll.path, 'fwpuclnt.dll');
        const vectors = (JSON.parse(readFileSync(new URL('./golden/vectors.json', import.meta.url), 'utf8')) as { cases: Record<string, string> }).cases;
        writeFileSync(goldenFile, JSON.stringify({ cases: goldenCases.map((c) => ({ ...c, hex: vectors[c.name] })) }));
        const result = await run('test/windows/lane-checks.mjs', [goldenFile]);
        const parsed = parseJson<{ arch: string; checks: Check[] }>(result, 'lane-checks.mjs');
        expect(parsed.arch).toBe(arch === 'x86' ? 'ia32' : 'x64');
        checks = new Map(parsed.checks.map((c) => [c.name, c]));
      } catch (error) {
        laneError = error as Error;
      }
    }, 600_000);

    for (const name of CHECKS) {
      it(name, () => {
        ready();
        const check = checks.get(name);
        expect(check, `the check '${name}' did not run`).toBeDefined();
        expect(check!.ok, String(check!.detail)).toBe(true);
        if (name.startsWith('golden')) expect(check!.detail).toEqual({ vectors: goldenCases.length });
        if (name.startsWith('doctor')) {
          expect(check!.detail).toMatchObject({ verdicts: { default: 'units', ipsec: 'units', ipsec2: 'bytes' }, agrees: [true, true, true] });
        }
      });
    }

    it('npm start (serve): a 300-peer crowd, every peer registered in fwpuclnt.dll, 0 failures', async () => {
      ready();
      const result = await run('dist/host/tools/cli.js', ['serve', '--peers', '300', '--timeout', '5000', '--json', '--quiet']);
      expect(result.status, result.stderr).toBe(0);
      const summary = parseJson<{
        backend: { kind: string; path: string }; peers: { total: number; served: number };
        registrations: { made: number; failed: number; deletedAtExit: number }; datagrams: { lost: number; refused: number };
      }>(result, 'serve');
      expect(summary.backend).toMatchObject({ kind: 'windows', path: 'fwpuclnt.dll' });
      expect(summary.peers).toMatchObject({ total: 300, served: 300 });
      expect(summary.registrations).toMatchObject({ made: 300, failed: 0, deletedAtExit: 300 });
      expect(summary.datagrams).toMatchObject({ lost: 0, refused: 0 });
    }, 240_000);

    it('serve --security: WSASetSocketSecurity before bind on both server sockets, then the same crowd', async () => {
      ready();
      const result = await run('dist/host/tools/cli.js', ['serve', '--peers', '300', '--timeout', '5000', '--security']);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain('registering with Fwpuclnt.dll (Windows)');
      expect(result.stdout).toContain('socket security: WSASetSocketSecurity (ipsec) on each server socket, before bind');
      expect(result.stdout).toMatch(/registrations made\s+300\b/);
      expect(result.stdout).toMatch(/registrations failed\s+0 \(0 peers\)/);
    }, 240_000);

    it('doctor --json against a DLL told to read bytes: the verdict follows the DLL, and says auto disagrees (exit 1)', async () => {
      ready();
      const result = await run('dist/host/tools/cli.js', ['doctor', '--json'], { PTN_CONFORMANCE_LENGTH_UNIT: 'bytes' });
      const report = parseJson<{ backend: { kind: string }; protocols: { protocol: string; verdict: string; autoAgrees: boolean }[]; verdict: string }>(result, 'doctor');
      expect(result.status).toBe(1);
      expect(report.backend.kind).toBe('windows');
      expect(report.protocols.map((p) => [p.protocol, p.verdict, p.autoAgrees])).toEqual([
        ['default', 'bytes', false], ['ipsec', 'bytes', false], ['ipsec2', 'bytes', true],
      ]);
      expect(report.verdict).toContain('DISAGREES for default, ipsec');
    }, 240_000);
  });
}
