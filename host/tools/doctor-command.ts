// `peer-target-name doctor [--json] [--library PATH]`: the command line around host/tools/doctor.ts.
import { subcommandLine } from './cli-args.js';
import { runDoctor, formatDoctorReport, doctorExitStatus } from './doctor.js';
import { BackendUnavailableError } from './main-job/backend.js';

export interface DoctorIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const DOCTOR_HELP = `Usage: peer-target-name doctor [--json] [--library PATH]

Asks the DLL what it accepts. On Windows: loads Fwpuclnt.dll and Ws2_32.dll, resolves
WSASetSocketPeerTargetName, WSADeleteSocketPeerTargetName, WSASetSocketSecurity,
WSAQuerySocketSecurity and WSAGetLastError, opens loopback UDP sockets, and for each protocol
(default, ipsec, ipsec2) calls WSASetSocketSecurity before bind and then WSASetSocketPeerTargetName
with PeerTargetNameStringLen in UTF-16 units (n) and in bytes (2n), at totals of 144 + 2n and
140 + 2n. It prints what was accepted and refused (Winsock codes), which unit the DLL reads, whether
the package's auto policy (units for default and ipsec, bytes for ipsec2) agrees, and advice.
Elsewhere it runs against the conformance library (a stand-in) and says so.

Options:
  --json           the same result as JSON, on stdout
  --library PATH   ask this library instead (it exports the Fwpuclnt.dll functions)
  -h, --help       show this help

Exit status: 0 the auto policy agrees (or the DLL did not tell); 1 it disagrees for a protocol
(use --length-unit / lengthUnit); 2 bad command line; 69 a library or function is missing.
Please report the --json output of a Windows run to the project.
`;

export async function doctorCommand(argv: string[], io: DoctorIO): Promise<number> {
  const values = subcommandLine('doctor', argv, { json: { type: 'boolean' }, library: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, DOCTOR_HELP, io);
  if (typeof values === 'number') return values;
  try {
    const report = await runDoctor({ library: values.library });
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    return doctorExitStatus(report);
  } catch (e) {
    if (e instanceof BackendUnavailableError) {
      io.stderr.write(`peer-target-name doctor: ${e.message}\n`);
      return 69;
    }
    throw e;
  }
}
