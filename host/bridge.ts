// peer-target-name/bridge (Node only): the native side. Bridge calls Fwpuclnt.dll through koffi
// (or a library that exports the same functions); socketHandle and createSecureSocket reach a
// dgram socket's own SOCKET; PeerRegistry and DgramGuard register peers for a UDP server.
export { Bridge, openBridge, BridgeUnavailableError, type BridgeOptions, type PeerTargetNameTarget } from './native-bridge.js';
export { BridgeClosedError, BridgeWorkerError } from './bridge-async.js';
export { WinsockError, type SocketHandle } from './winsock.js';
export { socketHandle, SocketHandleError, type SocketHandleProblem } from './sockets/socket-handle.js';
export { createSecureSocket, type SecureSocketOptions } from './sockets/secure-socket.js';
export { SystemSocketError } from './sockets/system.js';
export {
  PeerRegistry, PeerRegistryError, PeerRegistryClearError, type PeerRegistryOptions, type PeerRegistryStats, type RegistryPeer,
  type TargetNamePolicy, type EnsureManyResult, type CanonicalPeer, type PendingDeletion,
} from './registry.js';
export { hostZoneIndex } from './zones.js';
export { DgramGuard, type DgramGuardOptions, type DgramGuardStats, type PeerFailure } from './dgram-guard.js';
