// serve --security: each server socket gets WSASetSocketSecurity between socket() and bind()
// (createSecureSocket), then serves the crowd as usual. On Linux against the conformance library,
// which keeps the settings per socket; test/windows.test.ts runs the same under Wine.
import { describe, it, expect, afterAll } from 'vitest';
import { runMainJob, openBackend, serveCommand, type Backend } from '../host/tools/main-job.js';
import { loadConformance } from './support/conformance.js';
import { captureIO } from './support/capture.js';

const conformance = loadConformance();
let backend: Backend | undefined;
afterAll(async () => backend?.bridge.close());


describe('serve --security', () => {
  it('both server sockets carry the settings before the crowd arrives; every peer is registered', async () => {
    backend = await openBackend(conformance.path);
    const seen: string[] = [];
    const { summary } = await runMainJob({ peers: 40, datagramsPerPeer: 2, security: true, protocol: 'ipsec2', backend, targetName: 'host/{address}' }, {
      onStart(server) {
        for (const e of server.endpoints) seen.push(`${e.family}:${backend!.bridge.querySocketSecurity(e.handle).protocol}`);
      },
    });
    expect(seen.sort()).toEqual(['udp4:ipsec2', 'udp6:ipsec2']);
    expect(summary.options.security).toBe(true);
    expect(summary.registrations).toMatchObject({ made: 40, failed: 0 });
    expect(summary.peers.served).toBe(40);
  });

  it('without it, the sockets are plain: the library holds no settings for them', async () => {
    backend ??= await openBackend(conformance.path);
    let protocols: string[] = [];
    await runMainJob({ peers: 4, datagramsPerPeer: 1, backend }, {
      onStart(server) {
        protocols = server.endpoints.map((e) => backend!.bridge.querySocketSecurity(e.handle).protocol);
      },
    });
    // The conformance library answers 'default' for a socket that never had WSASetSocketSecurity.
    expect(protocols).toEqual(['default', 'default']);
  });

  it('refuses combinations that cannot work, with exit 2 and the reason', async () => {
    for (const [args, reason] of [
      [['--security', '--no-registration'], '--security needs the native backend'],
      [['--security', '--bench'], '--bench measures the registration cost on plain sockets'],
    ] as const) {
      const c = captureIO();
      expect(await serveCommand([...args], c.io)).toBe(2);
      expect(c.err()).toContain(reason);
    }
  });
});
