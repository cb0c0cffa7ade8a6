// peer-target-name: build, check and read SOCKET_PEER_TARGET_NAME buffers for
// WSASetSocketPeerTargetName. Works unchanged in Node and in browsers; the WebAssembly codec ships
// inside the package. The entry only re-exports: the codec's API is host/codec/api.ts.
export * from './codec/api.js';
export { encodePeerTargetNameInto } from './codec/encode-into.js';
