// Real sockets on loopback for the bridge tests: their POSIX descriptors are the handles.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';

/** The descriptor behind a Node socket or server (libuv's handle; -1 until bound). */
export function fdOf(thing: dgram.Socket | net.Server | net.Socket): number {
  const fd = (thing as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no descriptor yet (bind it first)');
  return fd;
}

export async function boundUdp(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const socket = dgram.createSocket(type);
  socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(socket, 'listening');
  return socket;
}

/** A listening TCP socket: a SOCK_STREAM descriptor that is not connected. */
export async function listeningTcp(): Promise<net.Server> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A UDP socket connected to another one: WSAEISCONN territory. */
export async function connectedUdp(): Promise<{ socket: dgram.Socket; peer: dgram.Socket }> {
  const peer = await boundUdp();
  const socket = await boundUdp();
  socket.connect(peer.address().port, '127.0.0.1');
  await once(socket, 'connect');
  return { socket, peer };
}

/** An AF_UNIX stream socket pair end: not AF_INET/AF_INET6. */
export async function unixSocket(path: string): Promise<{ server: net.Server; client: net.Socket }> {
  const server = net.createServer();
  server.listen(path);
  await once(server, 'listening');
  const client = net.connect(path);
  await once(client, 'connect');
  return { server, client };
}

export function closeAll(...things: (dgram.Socket | net.Server | net.Socket | undefined)[]): void {
  for (const t of things) {
    try {
      if (t instanceof net.Socket) t.destroy();
      else t?.close();
    } catch {
      // already closed
    }
  }
}
