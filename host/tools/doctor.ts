// `peer-target-name doctor`: asks the DLL itself what it accepts. Microsoft's sources disagree on
// the unit of PeerTargetNameStringLen (the reference page says bytes, every sample passes UTF-16
// units), and only a real Windows machine can settle it. The doctor loads Fwpuclnt.dll and
// Ws2_32.dll, resolves the functions, and for each protocol gives a fresh loopback UDP socket
// WSASetSocketSecurity (before bind, as documented) and then WSASetSocketPeerTargetName with the
// length field in units and in bytes, at totals of 144 + 2n and 140 + 2n. With an odd n:
//   - a DLL that reads units accepts (n, 140 + 2n) and refuses (2n, 140 + 2n): 2n units need 4n bytes;
//   - a DLL that reads bytes refuses (n, …): an odd byte count is no UTF-16 string.
// Elsewhere it runs the same trials against the conformance library and says so.
import { loadKoffi } from '../bridge/koffi.js';
import { encodePeerTargetName } from '../codec/api.js';
import { encodeSocketSecuritySettings } from '../codec/security.js';
import { winsockName } from '../codec/errors.js';
import { PROTOTYPES, nativeSymbol, type NativeName } from '../bridge/native.js';
import { systemSockets, type SystemSockets } from '../bridge/sockets/system.js';
import { sharedCodec } from '../codec/codec.js';
import { resolveOptions } from '../codec/options.js';
import { conformanceLibrary } from './main-job/backend.js';
import * as L from '../generated/layout.js';
import type { ProtocolName } from '../codec/types.js';

export type LengthUnitVerdict = 'units' | 'bytes' | 'inconclusive';

/** One native call and what came back. */
export interface CallOutcome {
  ok: boolean;
  /** WSAGetLastError after a failure (0 on success). */
  errno: number;
  /** 'WSAEMSGSIZE', …, `WSA${errno}` for a code this package does not name, null on success. */
  code: string | null;
}

export interface DoctorTrial extends CallOutcome {
  /** What PeerTargetNameStringLen held: n ('units') or 2n ('bytes'). */
  field: 'units' | 'bytes';
  fieldValue: number;
  /** '144+2n' (the samples' total) or '140+2n' (no room past the string). */
  total: '144+2n' | '140+2n';
  length: number;
}

export interface DoctorProtocol {
  protocol: ProtocolName;
  /** WSASetSocketSecurity({ SecurityProtocol }), right after socket(), before bind(). */
  security: CallOutcome;
  trials: DoctorTrial[];
  verdict: LengthUnitVerdict;
  reason: string;
  /** The unit the package's `auto` policy uses for this protocol. */
  autoUnit: 'units' | 'bytes';
  /** null when the verdict is inconclusive. */
  autoAgrees: boolean | null;
}

export interface DoctorCheck {
  name: string;
  /** What the documentation says should happen. */
  expected: string;
  outcome: CallOutcome;
  /** Whether the outcome is the documented one; null where the documentation gives no outcome. */
  asDocumented: boolean | null;
}

export interface DoctorReport {
  platform: string;
  arch: string;
  node: string;
  backend: {
    kind: 'windows' | 'conformance' | 'library';
    /** What the trials ran against, for people. */
    description: string;
    secureSockets: string;
    winsock: string;
  };
  libraries: { name: string; loaded: boolean; error?: string }[];
  functions: { name: string; resolved: boolean; error?: string }[];
  socket: { ok: boolean; address?: string; error?: string };
  targetName: string;
  /** n: the name's UTF-16 units (odd on purpose). */
  units: number;
  protocols: DoctorProtocol[];
  checks: DoctorCheck[];
  /** One line: what the DLL reads PeerTargetNameStringLen in, and whether `auto` agrees. */
  verdict: string;
  advice: string[];
}

export interface DoctorOptions {
  /** One library exporting every function (the conformance library, or another stand-in). */
  library?: string;
}

const PROTOCOLS: ProtocolName[] = ['default', 'ipsec', 'ipsec2'];
/** 17 UTF-16 units: odd, so a byte count of n cannot be a whole string. */
const TARGET_NAME = 'host/doctor.local';
const STREAM = resolveOptions({ socketType: 'stream' });

type Fn = (...args: unknown[]) => number;

async function librariesFor(options: DoctorOptions): Promise<DoctorReport['backend']> {
  const named = options.library ?? process.env.PEER_TARGET_NAME_LIBRARY;
  if (named) {
    return { kind: 'library', description: `${named}, a library named by ${options.library ? '--library' : 'PEER_TARGET_NAME_LIBRARY'} (not Windows' own DLL)`, secureSockets: named, winsock: named };
  }
  if (process.platform === 'win32') {
    return { kind: 'windows', description: "Windows' own Fwpuclnt.dll and Ws2_32.dll", secureSockets: 'fwpuclnt.dll', winsock: 'ws2_32.dll' };
  }
  const { path } = await conformanceLibrary();
  return {
    kind: 'conformance',
    description: `the conformance library (${path}), a stand-in for Fwpuclnt.dll on ${process.platform}: it applies the documented ` +
      'rules in the unit it is told to (PTN_CONFORMANCE_LENGTH_UNIT), so its verdict tests the doctor, not Windows',
    secureSockets: path, winsock: path,
  };
}

function outcome(rc: number, lastError: Fn): CallOutcome {
  if (rc === 0) return { ok: true, errno: 0, code: null };
  const errno = lastError();
  return { ok: false, errno, code: winsockName(errno) ?? `WSA${errno}` };
}

const describe = (o: CallOutcome) => (o.ok ? 'accepted' : `${o.code} (${o.errno})`);

/** The unit a protocol's trials show (see the header for why these two trials decide it). */
function verdictOf(trials: DoctorTrial[]): { verdict: LengthUnitVerdict; reason: string } {
  const find = (field: 'units' | 'bytes') => trials.find((t) => t.field === field && t.total === '140+2n')!;
  const units = find('units');
  const bytes = find('bytes');
  if (units.ok && !bytes.ok) {
    return { verdict: 'units', reason: `at 140 + 2n bytes, the field n was accepted and 2n refused (${bytes.code}): the DLL reads UTF-16 units` };
  }
  if (bytes.ok && !units.ok) {
    return { verdict: 'bytes', reason: `at 140 + 2n bytes, the field 2n was accepted and n (odd) refused (${units.code}): the DLL reads bytes` };
  }
  if (units.ok && bytes.ok) {
    return { verdict: 'inconclusive', reason: 'the DLL accepted the field both as n and as 2n at 140 + 2n bytes: it does not check the length against the buffer, so the unit cannot be told this way' };
  }
  return { verdict: 'inconclusive', reason: `the DLL refused both (${units.code}, ${bytes.code}): something other than the length stops it first (see the advice)` };
}

/** Runs every trial. Never throws for what the DLL does; throws BackendUnavailableError when nothing can be loaded. */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const backend = await librariesFor(options);
  const report: DoctorReport = {
    platform: process.platform, arch: process.arch, node: process.version, backend,
    libraries: [], functions: [], socket: { ok: false }, targetName: TARGET_NAME, units: TARGET_NAME.length,
    protocols: [], checks: [], verdict: '', advice: [],
  };
  const koffi = loadKoffi();
  const loaded = new Map<string, ReturnType<typeof koffi.load>>();
  for (const name of new Set([backend.secureSockets, backend.winsock])) {
    try {
      loaded.set(name, koffi.load(name));
      report.libraries.push({ name, loaded: true });
    } catch (error) {
      report.libraries.push({ name, loaded: false, error: (error as Error).message });
    }
  }
  const fn: Partial<Record<NativeName, Fn>> = {};
  for (const [name, prototype] of Object.entries(PROTOTYPES) as [NativeName, string][]) {
    const lib = loaded.get(name === 'lastError' ? backend.winsock : backend.secureSockets);
    if (!lib) {
      report.functions.push({ name: nativeSymbol(name), resolved: false, error: 'its library did not load' });
      continue;
    }
    try {
      fn[name] = lib.func(prototype) as Fn;
      report.functions.push({ name: nativeSymbol(name), resolved: true });
    } catch (error) {
      report.functions.push({ name: nativeSymbol(name), resolved: false, error: (error as Error).message });
    }
  }
  const { setPeerTargetName, setSocketSecurity, lastError } = fn;
  if (setPeerTargetName && setSocketSecurity && lastError) {
    let system: SystemSockets | undefined;
    try {
      system = systemSockets();
      runTrials(report, system, setPeerTargetName, setSocketSecurity, lastError);
      runChecks(report, system, setPeerTargetName, setSocketSecurity, lastError);
    } catch (error) {
      report.socket = { ok: false, error: (error as Error).message };
    }
  }
  conclude(report);
  return report;
}

function loopback(port: number): Uint8Array {
  return sharedCodec().encodePeer({ address: '127.0.0.1', port }, STREAM).slice();
}

function runTrials(report: DoctorReport, system: SystemSockets, setName: Fn, setSecurity: Fn, lastError: Fn): void {
  const n = TARGET_NAME.length;
  let peerPort = 40_001;
  for (const protocol of PROTOCOLS) {
    const s = system.open('ipv4');
    try {
      const settings = encodeSocketSecuritySettings({ protocol });
      const security = outcome(setSecurity(s, settings, settings.byteLength, null, null), lastError);
      system.bind(s, loopback(0));
      const local = system.localAddress(s);
      report.socket = { ok: true, address: `127.0.0.1:${local?.port ?? '?'} (${system.windows ? 'SOCKET' : 'descriptor'} ${String(s)})` };
      const trials: DoctorTrial[] = [];
      for (const field of ['units', 'bytes'] as const) {
        for (const total of ['144+2n', '140+2n'] as const) {
          // A peer of its own per trial, so that no trial replaces another's registration.
          const record = encodePeerTargetName({ protocol, peer: `127.0.0.2:${peerPort++}`, targetName: TARGET_NAME }, { lengthUnit: 'units' });
          const bytes = record.slice(0, total === '144+2n' ? L.SIZEOF_PEER_TARGET_NAME + 2 * n : L.OFFSET_STRINGS + 2 * n);
          const fieldValue = field === 'units' ? n : 2 * n;
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(L.OFFSET_STRING_LENGTH, fieldValue, true);
          const result = outcome(setName(s, bytes, bytes.byteLength, null, null), lastError);
          trials.push({ field, fieldValue, total, length: bytes.byteLength, ...result });
        }
      }
      const { verdict, reason } = verdictOf(trials);
      const autoUnit = protocol === 'ipsec2' ? 'bytes' : 'units';
      report.protocols.push({ protocol, security, trials, verdict, reason, autoUnit, autoAgrees: verdict === 'inconclusive' ? null : verdict === autoUnit });
    } finally {
      system.close(s);
    }
  }
}

/** Two documented rules, tried for real: each tells a user what their DLL does in a usual mistake. */
function runChecks(report: DoctorReport, system: SystemSockets, setName: Fn, setSecurity: Fn, lastError: Fn): void {
  const record = encodePeerTargetName({ protocol: 'ipsec', peer: '127.0.0.2:40100', targetName: TARGET_NAME });
  const s = system.open('ipv4');
  try {
    system.bind(s, loopback(0));
    const settings = encodeSocketSecuritySettings({ protocol: 'ipsec' });
    const late = outcome(setSecurity(s, settings, settings.byteLength, null, null), lastError);
    report.checks.push({
      name: 'WSASetSocketSecurity after bind', expected: 'to be called before bind (what a late call does is not documented)',
      outcome: late, asDocumented: null,
    });
    system.connect(s, loopback(40_100));
    const connected = outcome(setName(s, record, record.byteLength, null, null), lastError);
    report.checks.push({
      name: 'WSASetSocketPeerTargetName on a connected socket', expected: 'WSAEISCONN',
      outcome: connected, asDocumented: connected.code === 'WSAEISCONN',
    });
  } finally {
    system.close(s);
  }
}

function conclude(report: DoctorReport): void {
  const advice = report.advice;
  const missingLibrary = report.libraries.find((l) => !l.loaded);
  if (missingLibrary) {
    advice.push(report.backend.kind === 'windows'
      ? `${missingLibrary.name} could not be loaded (${missingLibrary.error}). Fwpuclnt.dll ships with Windows Vista / Server 2008 and later; ` +
        'a Windows without it (some Server Core and container images) cannot use Secure Socket Extensions at all.'
      : `${missingLibrary.name} could not be loaded: ${missingLibrary.error}`);
  }
  for (const f of report.functions.filter((x) => !x.resolved && !missingLibrary)) {
    advice.push(`${f.name} is not exported by the library that was loaded: ${f.error}`);
  }
  if (!report.socket.ok && report.socket.error) advice.push(`no loopback UDP socket could be made: ${report.socket.error}`);
  const insecure = report.protocols.filter((p) => !p.security.ok);
  if (insecure.length > 0) {
    advice.push(`WSASetSocketSecurity was refused for ${insecure.map((p) => `${p.protocol} (${p.security.code})`).join(', ')}, although it ran right after socket(), ` +
      'as documented. Check that the IPsec services run (sc query bfe; sc query ikeext) and that this account may use them.');
  }
  const refusedAll = report.protocols.filter((p) => p.trials.every((t) => !t.ok));
  if (refusedAll.length > 0) {
    const codes = [...new Set(refusedAll.flatMap((p) => p.trials.map((t) => t.code)))].join(', ');
    advice.push(`every WSASetSocketPeerTargetName was refused for ${refusedAll.map((p) => p.protocol).join(', ')} (${codes}). ` +
      'The usual cause is no IPsec policy or credentials for the peer: a connection security rule (netsh advfirewall consec show rule name=all) ' +
      'and, for IPSEC2, the credentials given to WSASetSocketSecurity.');
  }
  for (const check of report.checks) {
    if (check.asDocumented === false) advice.push(`${check.name}: expected ${check.expected}, got ${describe(check.outcome)}.`);
  }
  const late = report.checks.find((c) => c.name.startsWith('WSASetSocketSecurity after bind'));
  if (late?.outcome.ok) {
    advice.push('This DLL accepted security set after bind, but Microsoft documents it before bind for a server, and a late call may not ' +
      'secure what was already bound. createSecureSocket() (peer-target-name/bridge) and serve --security keep the documented order.');
  } else if (late) {
    advice.push(`Security set after bind was refused (${late.outcome.code}): call WSASetSocketSecurity between socket() and bind(), ` +
      'as createSecureSocket() (peer-target-name/bridge) and serve --security do.');
  }
  advice.push('A connected socket must have its peer named before connect (or, for UDP, before the first send to that peer): WSAEISCONN otherwise.');

  const decided = report.protocols.filter((p) => p.verdict !== 'inconclusive');
  const disagree = decided.filter((p) => p.autoAgrees === false);
  if (report.protocols.length === 0) {
    report.verdict = 'no verdict: the trials could not run (see the advice)';
  } else if (decided.length === 0) {
    report.verdict = 'no verdict: the DLL did not tell the unit apart for any protocol';
  } else {
    const each = report.protocols.map((p) => `${p.protocol} ${p.verdict === 'inconclusive' ? '?' : p.verdict}`).join(', ');
    report.verdict = disagree.length === 0
      ? `PeerTargetNameStringLen is read as ${each}: the package's auto policy agrees`
      : `PeerTargetNameStringLen is read as ${each}: the auto policy DISAGREES for ${disagree.map((p) => p.protocol).join(', ')}; ` +
        `pass lengthUnit '${disagree[0].verdict}' (--length-unit ${disagree[0].verdict}) for ${disagree.length > 1 ? 'them' : 'it'}`;
  }
  if (report.backend.kind === 'windows') {
    advice.push('Please report this result (peer-target-name doctor --json) to the project: only real Windows machines can settle the length unit.');
  } else {
    advice.push(`This ran against ${report.backend.kind === 'conformance' ? 'the conformance library' : 'a named library'}, not Windows: run the doctor on Windows for the real answer.`);
  }
}

/** The report as the table `doctor` prints. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`peer-target-name doctor: ${r.platform} ${r.arch}, Node ${r.node}`);
  lines.push(`against: ${r.backend.description}`);
  lines.push(`libraries: ${r.libraries.map((l) => `${l.name} ${l.loaded ? 'loaded' : `NOT LOADED (${l.error})`}`).join('; ')}`);
  lines.push(`functions: ${r.functions.map((f) => `${f.name} ${f.resolved ? 'ok' : 'MISSING'}`).join(', ')}`);
  lines.push(`socket: ${r.socket.ok ? `UDP ${r.socket.address}` : `none (${r.socket.error ?? 'not tried'})`}`);
  if (r.protocols.length > 0) {
    lines.push('');
    lines.push(`target name '${r.targetName}', n = ${r.units} UTF-16 units; field n = units, 2n = bytes`);
    const header = ['protocol', 'security', 'n @ 144+2n', '2n @ 144+2n', 'n @ 140+2n', '2n @ 140+2n', 'unit', 'auto'];
    const rows = r.protocols.map((p) => {
      const cell = (field: 'units' | 'bytes', total: '144+2n' | '140+2n') => describe(p.trials.find((t) => t.field === field && t.total === total)!);
      return [p.protocol, describe(p.security), cell('units', '144+2n'), cell('bytes', '144+2n'), cell('units', '140+2n'), cell('bytes', '140+2n'),
        p.verdict, `${p.autoUnit}${p.autoAgrees === null ? '' : p.autoAgrees ? ' (agrees)' : ' (DISAGREES)'}`];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    for (const row of [header, ...rows]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}`);
    for (const p of r.protocols) lines.push(`  ${p.protocol}: ${p.reason}`);
  }
  if (r.checks.length > 0) {
    lines.push('');
    lines.push('checks:');
    for (const c of r.checks) lines.push(`  ${c.name}: ${describe(c.outcome)} (documented: ${c.expected})${c.asDocumented === false ? '  <- not as documented' : ''}`);
  }
  lines.push('');
  lines.push(`verdict: ${r.verdict}`);
  lines.push('');
  lines.push('advice:');
  for (const a of r.advice) lines.push(`  - ${a}`);
  return `${lines.join('\n')}\n`;
}

/** Exit status: 0 the auto policy agrees (or nothing could tell); 1 it disagrees for a protocol; 69 nothing to ask. */
export function doctorExitStatus(r: DoctorReport): number {
  if (r.libraries.some((l) => !l.loaded) || r.functions.some((f) => !f.resolved)) return 69;
  return r.protocols.some((p) => p.autoAgrees === false) ? 1 : 0;
}

