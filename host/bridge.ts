// peer-target-name/bridge (Node only): the native side. Bridge calls Fwpuclnt.dll through koffi
// (or a library that exports the same functions); socketHandle and createSecureSocket reach a
// dgram socket's own SOCKET; PeerRegistry and DgramGuard register peers for a UDP server.
export { Bridge, openBridge, BridgeUnavailableError, type BridgeOptions, type PeerTargetNameTarget } from './bridge/native-bridge.js';
export { BridgeClosedError, BridgeWorkerError } from './bridge/async-pool.js';
export { WinsockError, type SocketHandle } from './bridge/winsock.js';
export { socketHandle, SocketHandleError, type SocketHandleProblem } from './bridge/sockets/socket-handle.js';
export { createSecureSocket, type SecureSocketOptions } from './bridge/sockets/secure-socket.js';
export { SystemSocketError } from './bridge/sockets/system.js';
export {
  PeerRegistry, PeerRegistryError, PeerRegistryClearError, type PeerRegistryOptions, type PeerRegistryStats, type RegistryPeer,
  type TargetNamePolicy, type EnsureManyResult, type CanonicalPeer, type PendingDeletion,
} from './bridge/registry.js';
export { hostZoneIndex } from './bridge/zones.js';
export { compileTargetNameTemplate, TargetNameTemplateError } from './bridge/target-name-template.js';
export { DgramGuard, type DgramGuardOptions, type DgramGuardStats, type PeerFailure } from './bridge/dgram-guard.js';
