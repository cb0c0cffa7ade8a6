// Debian's Chromium, driven by playwright-core. No browser is ever downloaded (none can be here):
// the test uses the system binary or fails saying how to install it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian puts it: the headless shell (smaller) first, then the full browser. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium-headless-shell',
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
];

export const INSTALL_HINT =
  'The preview tests need Debian\'s Chromium and found none at ' + CHROMIUM_CANDIDATES.join(', ') +
  ' (or $PEER_TARGET_NAME_CHROMIUM). Install it with:\n' +
  '  apt-get update && apt-get install -y chromium-headless-shell   # or: chromium\n' +
  '(.ci/run installs it; playwright cannot download browsers here.)';

export function findChromium(): string | undefined {
  const fromEnv = process.env.PEER_TARGET_NAME_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export interface Browser {
  context: BrowserContext;
  executable: string;
  close(): Promise<void>;
}

/**
 * A fresh profile each time, and nothing that talks to the network on its own. Rendering is pinned
 * for the screenshot tests: one device pixel per CSS pixel, sRGB, grey-scale antialiasing without
 * font hinting, so the same fonts draw the same pixels run after run.
 */
export async function launchChromium(executable: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ptn-preview-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: executable,
    headless: true,
    viewport: { width: 1400, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--force-color-profile=srgb', '--font-render-hinting=none', '--disable-lcd-text', '--hide-scrollbars',
    ],
  });
  return {
    context,
    executable,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
