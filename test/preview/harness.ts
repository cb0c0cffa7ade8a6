// Shared by the browser test files: the built page served locally, Debian's Chromium, and pages
// opened at a given size and colour scheme. Each file that calls useBrowser() gets its own server
// and browser (files run in separate workers).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

import { startPreviewServer, type PreviewServer } from '../../build/preview.mjs';
import { findChromium, INSTALL_HINT, launchChromium, type Browser } from './browser.js';

/** A viewport and colour scheme the page must work in. */
export interface Look {
  name: string;
  width: number;
  height: number;
  scheme: 'light' | 'dark';
}

/** The two sizes, each in both colour schemes. */
export const LOOKS: readonly Look[] = [
  { name: '1280x800 light', width: 1280, height: 800, scheme: 'light' },
  { name: '1280x800 dark', width: 1280, height: 800, scheme: 'dark' },
  { name: '390x844 light', width: 390, height: 844, scheme: 'light' },
  { name: '390x844 dark', width: 390, height: 844, scheme: 'dark' },
];

export interface Harness {
  ready(): { browser: Browser; server: PreviewServer };
  /** A new page at `look` (default: the first), opened at `hash`, after its first render. */
  open(hash?: string, look?: Look): Promise<Page>;
  /** Console errors and uncaught exceptions the page raised. */
  errors(page: Page): string[];
}

/** Starts the server and Chromium for the calling test file (beforeAll / afterAll). */
export function useBrowser(): Harness {
  const executable = findChromium();
  let browser: Browser | undefined;
  let server: PreviewServer | undefined;
  let setupError: unknown;
  const errorLog = new WeakMap<Page, string[]>();

  beforeAll(async () => {
    if (!executable) return;
    try {
      server = await startPreviewServer({ port: 0 });
      browser = await launchChromium(executable);
    } catch (error) {
      setupError = error;
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const ready = () => {
    // No Chromium is a loud failure with the fix, never a skip.
    if (!executable) throw new Error(INSTALL_HINT);
    if (setupError) throw setupError;
    if (!browser || !server) throw new Error('preview: browser or server did not start');
    return { browser, server };
  };

  return {
    ready,
    errors: (page) => errorLog.get(page) ?? [],
    async open(hash = '', look = LOOKS[0]) {
      const { browser: b, server: s } = ready();
      const page = await b.context.newPage();
      const errors: string[] = [];
      errorLog.set(page, errors);
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.setViewportSize({ width: look.width, height: look.height });
      await page.emulateMedia({ colorScheme: look.scheme, reducedMotion: 'reduce' });
      await page.goto(s.url + hash);
      await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
      return page;
    },
  };
}
