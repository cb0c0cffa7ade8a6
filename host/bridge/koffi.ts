// koffi, loaded once for everything that calls native code (the bridge, Node's own libuv, the
// system's socket calls). Loaded lazily so that importing the package never needs the native addon.
import { createRequire } from 'node:module';

export type Koffi = typeof import('koffi');

/** koffi could not be loaded here (no binary for this platform, or a broken install). */
export class KoffiUnavailableError extends Error {
  readonly platform: string;
  readonly arch: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KoffiUnavailableError';
    this.platform = process.platform;
    this.arch = process.arch;
  }
}

let koffi: Koffi | undefined;

export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (cause) {
    throw new KoffiUnavailableError(
      `koffi, which native calls go through, could not be loaded on ${process.platform} (${process.arch}): ${(cause as Error).message}`,
      { cause });
  }
  return koffi;
}
