// The native functions, as koffi prototypes with Windows-correct types: SOCKET is pointer-sized
// (uintptr_t), ULONG is 32-bit (uint32_t) whatever the host's `long` is, WSAAPI is __stdcall
// (which koffi ignores off x86). The same table serves the main thread and the async workers
// (bridge/worker.ts).

/** Which library each function comes from. */
export interface NativeLibraries {
  /** Fwpuclnt.dll, or the one library named by the caller. */
  secureSockets: string;
  /** Ws2_32.dll, or the same library. */
  winsock: string;
}

export const PROTOTYPES = {
  setPeerTargetName:
    'int __stdcall WSASetSocketPeerTargetName(uintptr_t Socket, const uint8_t *PeerTargetName, uint32_t PeerTargetNameLen, void *Overlapped, void *CompletionRoutine)',
  deletePeerTargetName:
    'int __stdcall WSADeleteSocketPeerTargetName(uintptr_t Socket, const uint8_t *PeerAddr, uint32_t PeerAddrLen, void *Overlapped, void *CompletionRoutine)',
  setSocketSecurity:
    'int __stdcall WSASetSocketSecurity(uintptr_t Socket, const uint8_t *SecuritySettings, uint32_t SecuritySettingsLen, void *Overlapped, void *CompletionRoutine)',
  querySocketSecurity:
    'int __stdcall WSAQuerySocketSecurity(uintptr_t Socket, const uint8_t *SecurityQueryTemplate, uint32_t SecurityQueryTemplateLen, uint8_t *SecurityQueryInfo, uint32_t *SecurityQueryInfoLen, void *Overlapped, void *CompletionRoutine)',
  lastError: 'int __stdcall WSAGetLastError()',
} as const;

export type NativeName = keyof typeof PROTOTYPES;
export type NativeFunction = (...args: unknown[]) => number;
export type NativeFunctions = Record<NativeName, NativeFunction>;

/** The Winsock function a prototype declares ('setPeerTargetName' -> 'WSASetSocketPeerTargetName'). */
export function nativeSymbol(name: NativeName): string {
  return /(\w+)\(/.exec(PROTOTYPES[name])![1];
}

/** Binds every prototype (koffi passed in: the main thread's, or a worker thread's own). */
export function bindNative(koffi: { load(path: string): { func(definition: string): NativeFunction } },
  libraries: NativeLibraries, prototypes: Record<string, string>): Record<string, NativeFunction> {
  const load = (path: string) => {
    try {
      return koffi.load(path);
    } catch (error) {
      throw new Error(`${path} could not be loaded: ${(error as Error).message}`);
    }
  };
  const secure = load(libraries.secureSockets);
  const winsock = libraries.winsock === libraries.secureSockets ? secure : load(libraries.winsock);
  const bound: Record<string, NativeFunction> = {};
  for (const [name, prototype] of Object.entries(prototypes)) {
    const lib = name === 'lastError' ? winsock : secure;
    try {
      bound[name] = lib.func(prototype);
    } catch (error) {
      const symbol = /(\w+)\(/.exec(prototype)?.[1];
      throw new Error(`${name === 'lastError' ? libraries.winsock : libraries.secureSockets} does not export ${symbol}: ${(error as Error).message}`);
    }
  }
  return bound;
}

type KoffiLike = Parameters<typeof bindNative>[0];
const boundOnce = new Map<string, NativeFunctions>();

/**
 * The main thread's bound functions for a pair of libraries, bound once per process and shared by
 * every Bridge: koffi.load and func() again on each openBridge would cost about 20 KB of RSS each
 * time, which koffi never gives back (measured over 1,000 openings).
 */
export function bindNativeOnce(koffi: KoffiLike, libraries: NativeLibraries): NativeFunctions {
  const key = `${libraries.secureSockets}\0${libraries.winsock}`;
  let bound = boundOnce.get(key);
  if (!bound) {
    bound = Object.freeze(bindNative(koffi, libraries, PROTOTYPES)) as NativeFunctions;
    boundOnce.set(key, bound);
  }
  return bound;
}
