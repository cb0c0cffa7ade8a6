// Named zones, on the host (Node only): Node's rinfo on Linux and macOS names a link-local peer's
// zone by its interface (`fe80::1%eth0`), but sin6_scope_id holds the interface's index, and the
// codec, which runs in browsers too, takes only a numeric zone. The bridge translates a named zone
// with hostZoneIndex() before the codec sees the address (options.resolveZone); a browser has no
// interfaces to ask, so there a named zone stays an error. On Windows the zone is numeric already.
//
// The source is the system's own if_nametoindex(3), bound with koffi: it knows every interface by
// name, including one with no address at all (os.networkInterfaces() lists only interfaces with an
// address, and carries a `scopeid` only on IPv6 ones: it has no index for `lo`, whose only IPv6
// address, ::1, is not link-local). Only when koffi or the function is missing does the lookup fall
// back to os.networkInterfaces(): the scope id of one of the interface's link-local IPv6 addresses.
import { networkInterfaces } from 'node:os';
import { loadKoffi } from './koffi.js';
import { DEFAULT_OPTIONS, withZoneResolver, type ResolvedOptions } from '../codec/options.js';

/** Where if_nametoindex lives, per platform, in the order tried. */
const LIBRARIES: Record<string, readonly string[]> = {
  linux: ['libc.so.6', 'libc.so'],
  darwin: ['/usr/lib/libSystem.B.dylib'],
  freebsd: ['libc.so.7'],
  openbsd: ['libc.so'],
  netbsd: ['libc.so'],
  sunos: ['libsocket.so.1', 'libc.so.1'],
  win32: ['iphlpapi.dll'],
};

type NameToIndex = (name: string) => number;
let nameToIndex: NameToIndex | null | undefined;

function bindNameToIndex(): NameToIndex | null {
  let koffi: ReturnType<typeof loadKoffi>;
  try {
    koffi = loadKoffi();
  } catch {
    return null;
  }
  const prototype = process.platform === 'win32'
    ? 'uint32_t __stdcall if_nametoindex(const char *ifname)'
    : 'unsigned int if_nametoindex(const char *ifname)';
  for (const path of LIBRARIES[process.platform] ?? ['libc.so']) {
    try {
      return koffi.load(path).func(prototype) as NameToIndex;
    } catch {
      // the next candidate
    }
  }
  return null;
}

/** The fallback: the scope id of one of the interface's link-local IPv6 addresses. */
function fromAddresses(name: string): number | undefined {
  const all = networkInterfaces();
  if (!Object.hasOwn(all, name)) return undefined;
  for (const address of all[name] ?? []) {
    if (address.family === 'IPv6' && address.scopeid) return address.scopeid;
  }
  return undefined;
}

/**
 * The index of the network interface named `name` on this host (if_nametoindex semantics), or
 * undefined when there is none. Asked afresh on every call: interfaces come and go, and an index
 * can change when one is re-created. A name holding U+0000 (C would cut it there) or longer than
 * any interface name is never looked up.
 */
export function hostZoneIndex(name: string): number | undefined {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || name.includes('\u0000')) return undefined;
  nameToIndex ??= bindNameToIndex();
  if (nameToIndex !== null) {
    const index = nameToIndex(name);
    return index > 0 ? index : undefined;
  }
  return fromAddresses(name);
}

/** The options with the host's zone resolver, unless they name one (or null: none) already. */
let hostDefault: ResolvedOptions | undefined;
export function withHostZones(options: ResolvedOptions): ResolvedOptions {
  if (options === DEFAULT_OPTIONS) return (hostDefault ??= withZoneResolver(options, hostZoneIndex)); // the common case, no lookup
  return withZoneResolver(options, hostZoneIndex);
}
