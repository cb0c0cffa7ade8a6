// The doctor's reasoning, against the conformance library told to read PeerTargetNameStringLen
// in units, in bytes, or per protocol (auto): the verdict must follow whatever the library does.
// (On Windows, test/windows.test.ts runs it against fwpuclnt.dll by name.)
import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runDoctor, formatDoctorReport, doctorExitStatus, type DoctorReport } from '../host/tools/doctor.js';
import { main } from '../host/tools/cli.js';
import { loadConformance } from './support/conformance.js';
import { captureIO } from './support/capture.js';

const conformance = loadConformance();
const CLI = fileURLToPath(new URL('../dist/host/tools/cli.js', import.meta.url));

afterEach(() => conformance.setLengthUnit(0));

const verdicts = (r: DoctorReport) => r.protocols.map((p) => [p.protocol, p.verdict, p.autoAgrees]);


describe('doctor against the conformance library', () => {
  it('auto: units for default and ipsec, bytes for ipsec2; the package agrees; exit 0', async () => {
    const report = await runDoctor({ library: conformance.path });
    expect(report.functions.map((f) => [f.name, f.resolved])).toEqual([
      ['WSASetSocketPeerTargetName', true], ['WSADeleteSocketPeerTargetName', true], ['WSASetSocketSecurity', true],
      ['WSAQuerySocketSecurity', true], ['WSAGetLastError', true],
    ]);
    expect(report.socket.ok).toBe(true);
    expect(report.protocols.every((p) => p.security.ok)).toBe(true);
    expect(verdicts(report)).toEqual([['default', 'units', true], ['ipsec', 'units', true], ['ipsec2', 'bytes', true]]);
    expect(report.verdict).toContain("auto policy agrees");
    expect(doctorExitStatus(report)).toBe(0);
  });

  it('the table of trials: field n and 2n at 144 + 2n and 140 + 2n, with the codes the library gave', async () => {
    const report = await runDoctor({ library: conformance.path });
    const n = report.units;
    expect(n % 2).toBe(1); // an odd n: n bytes can never be a whole UTF-16 string
    const ipsec = report.protocols.find((p) => p.protocol === 'ipsec')!;
    expect(ipsec.trials.map((t) => [t.field, t.fieldValue, t.total, t.length, t.code])).toEqual([
      ['units', n, '144+2n', 144 + 2 * n, null],
      ['units', n, '140+2n', 140 + 2 * n, null],
      ['bytes', 2 * n, '144+2n', 144 + 2 * n, 'WSAEMSGSIZE'],
      ['bytes', 2 * n, '140+2n', 140 + 2 * n, 'WSAEMSGSIZE'],
    ]);
    const ipsec2 = report.protocols.find((p) => p.protocol === 'ipsec2')!;
    expect(ipsec2.trials.filter((t) => t.field === 'units').map((t) => t.code)).toEqual(['WSAEINVAL', 'WSAEINVAL']);
    expect(ipsec2.trials.filter((t) => t.field === 'bytes').every((t) => t.ok)).toBe(true);
  });

  it('a library that reads units everywhere: ipsec2 disagrees with auto; the advice names the option; exit 1', async () => {
    conformance.setLengthUnit(1);
    const report = await runDoctor({ library: conformance.path });
    expect(verdicts(report)).toEqual([['default', 'units', true], ['ipsec', 'units', true], ['ipsec2', 'units', false]]);
    expect(report.verdict).toContain('DISAGREES for ipsec2');
    expect(report.verdict).toContain("lengthUnit 'units'");
    expect(doctorExitStatus(report)).toBe(1);
  });

  it('a library that reads bytes everywhere: default and ipsec disagree; exit 1', async () => {
    conformance.setLengthUnit(2);
    const report = await runDoctor({ library: conformance.path });
    expect(verdicts(report)).toEqual([['default', 'bytes', false], ['ipsec', 'bytes', false], ['ipsec2', 'bytes', true]]);
    expect(report.verdict).toContain('DISAGREES for default, ipsec');
    expect(doctorExitStatus(report)).toBe(1);
  });

  it('the documented checks: WSAEISCONN on a connected socket, security after bind reported', async () => {
    const report = await runDoctor({ library: conformance.path });
    const connected = report.checks.find((c) => c.name.includes('connected socket'))!;
    expect(connected.outcome).toMatchObject({ ok: false, errno: 10056, code: 'WSAEISCONN' });
    expect(connected.asDocumented).toBe(true);
    const late = report.checks.find((c) => c.name.includes('after bind'))!;
    expect(late.asDocumented).toBeNull(); // Microsoft gives an order, not an outcome
    expect(report.advice.join('\n')).toMatch(/before bind/);
  });

  it('says it ran against a stand-in, not Windows', async () => {
    const text = formatDoctorReport(await runDoctor({ library: conformance.path }));
    expect(text).toContain('run the doctor on Windows for the real answer');
    expect(text).toMatch(/verdict: PeerTargetNameStringLen is read as default units, ipsec units, ipsec2 bytes/);
  });

  it('every WSASetSocketPeerTargetName refused: no verdict, and advice on IPsec policy and credentials', async () => {
    conformance.refuseName('host/doctor.local');
    try {
      const report = await runDoctor({ library: conformance.path });
      expect(report.protocols.every((p) => p.verdict === 'inconclusive')).toBe(true);
      expect(report.verdict).toMatch(/^no verdict/);
      expect(report.advice.join('\n')).toMatch(/IPsec policy or credentials/);
    } finally {
      conformance.refuseName('');
    }
  });

  it('a library that is not there: it says which, and exits 69', async () => {
    const report = await runDoctor({ library: '/nonexistent/fwpuclnt.so' });
    expect(report.libraries[0]).toMatchObject({ name: '/nonexistent/fwpuclnt.so', loaded: false });
    expect(report.protocols).toEqual([]);
    expect(report.verdict).toMatch(/^no verdict/);
    expect(doctorExitStatus(report)).toBe(69);
  });
});

describe('doctor on the command line', () => {
  it('--json as a subprocess, the library told by PTN_CONFORMANCE_LENGTH_UNIT=units', () => {
    const r = spawnSync(process.execPath, [CLI, 'doctor', '--json', '--library', conformance.path], {
      encoding: 'utf8', env: { ...process.env, PTN_CONFORMANCE_LENGTH_UNIT: 'units' },
    });
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.backend.kind).toBe('library');
    expect(verdicts(report)).toEqual([['default', 'units', true], ['ipsec', 'units', true], ['ipsec2', 'units', false]]);
  });

  it('bad options exit 2; --help exits 0', async () => {
    const bad = captureIO();
    expect(await main(['doctor', '--jsn'], bad.io)).toBe(2);
    expect(bad.err()).toContain("unknown option '--jsn'");
    const help = captureIO();
    expect(await main(['doctor', '--help'], help.io)).toBe(0);
    expect(help.out()).toContain('144 + 2n');
  });
});
