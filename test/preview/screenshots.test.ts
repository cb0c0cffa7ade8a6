// The page's key states, pixel by pixel, against committed baselines (test/preview/screenshots/),
// so that a layout regression fails the suite. Screenshots are of the viewport at a fixed size,
// one device pixel per CSS pixel, fonts pinned to DejaVu (Debian's fonts-dejavu-core), caret and
// animations off; the comparison forgives a one-pixel shift of antialiased edges and small colour
// noise, and fails past 0.2% of the pixels.
//
// To regenerate the baselines after an intended change to the page's look:
//
//   npm run build --silent && UPDATE_SCREENSHOTS=1 npx vitest run test/preview/screenshots.test.ts
//
// then look at every PNG that changed before committing it. A failed comparison leaves the
// screenshot and a diff image (differences in magenta) in test/artifacts/screenshots/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { encodePeerTargetName, toHex } from '../../host/index.js';
import { LOOKS, useBrowser, type Look } from './harness.js';
import { compareImages, decodePng, encodePng } from './png.js';

const harness = useBrowser();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASELINES = join(ROOT, 'test', 'preview', 'screenshots');
const ARTIFACTS = join(ROOT, 'test', 'artifacts', 'screenshots');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/** The share of pixels that may differ (after the antialiasing allowance) before a state fails. */
const MAX_RATIO = 0.002;

const look = (name: string): Look => {
  const found = LOOKS.find((l) => l.name === name);
  if (!found) throw new Error(`no look ${name}`);
  return found;
};

/** The page at `look`, its fonts pinned, nothing blinking. */
async function pinned(hash: string, l: Look): Promise<Page> {
  const page = await harness.open(hash, l);
  const fonts = await page.evaluate(async () => {
    // Through the CSSOM: the page's CSP allows no added style sheet.
    document.documentElement.style.setProperty('--sans', '"DejaVu Sans"');
    document.documentElement.style.setProperty('--mono', '"DejaVu Sans Mono"');
    await document.fonts.ready;
    return document.fonts.check('15px "DejaVu Sans"') && document.fonts.check('13px "DejaVu Sans Mono"');
  });
  if (!fonts) throw new Error('the screenshot tests need the DejaVu fonts: apt-get install -y fonts-dejavu-core');
  return page;
}

async function shoot(page: Page): Promise<Buffer> {
  // Nothing hovered unless the state says so: the pointer is parked off the page first.
  return page.screenshot({ animations: 'disabled', caret: 'hide', scale: 'css' });
}

/** Compares a screenshot with its baseline (or writes the baseline when UPDATE_SCREENSHOTS=1). */
function check(name: string, png: Buffer): void {
  const file = join(BASELINES, `${name}.png`);
  if (UPDATE) {
    mkdirSync(BASELINES, { recursive: true });
    writeFileSync(file, png);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`no baseline ${file}: make one with UPDATE_SCREENSHOTS=1 npx vitest run test/preview/screenshots.test.ts`);
  }
  const diff = compareImages(decodePng(png), decodePng(readFileSync(file)));
  if (diff.ratio > MAX_RATIO) {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, `${name}.actual.png`), png);
    writeFileSync(join(ARTIFACTS, `${name}.diff.png`), encodePng(diff.image));
  }
  expect(diff.ratio, `${name}: ${diff.pixels} pixels differ (${(diff.ratio * 100).toFixed(3)}%); see test/artifacts/screenshots/${name}.diff.png`)
    .toBeLessThanOrEqual(MAX_RATIO);
}

const UNITS = encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' }, { lengthUnit: 'units' });

/** The key states: what a fresh page shows, a form with errors, a broken paste, and a hovered name byte. */
const STATES: { name: string; look: string; hash?: string; act?: (page: Page) => Promise<void> }[] = [
  ...LOOKS.map((l) => ({ name: `build-${l.name.replace(' ', '-')}`, look: l.name })),
  {
    name: 'errors-1280x800-light',
    look: '1280x800 light',
    act: async (page) => {
      await page.fill('#address', 'server.example.com');
      await page.fill('#port', '0');
      await page.fill('#name', '');
      await page.evaluate(() => {
        (document.activeElement as HTMLElement | null)?.blur();
        window.scrollTo(0, 0);
      });
    },
  },
  {
    name: 'errors-390x844-dark',
    look: '390x844 dark',
    act: async (page) => {
      await page.fill('#port', '70000');
      await page.fill('#flow', 'x');
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.locator('#address').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    },
  },
  {
    name: 'inspect-mismatch-1280x800-dark',
    look: '1280x800 dark',
    hash: `#mode=inspect&hex=${toHex(UNITS)}`,
  },
  {
    name: 'inspect-mismatch-390x844-light',
    look: '390x844 light',
    hash: `#mode=inspect&hex=${toHex(UNITS)}`,
  },
  {
    name: 'hover-name-1280x800-light',
    look: '1280x800 light',
    act: async (page) => {
      await page.fill('#name', 'host/\u670d\u52a1\u5668\u{1F600}.example');
      await page.evaluate(() => {
        (document.activeElement as HTMLElement | null)?.blur();
        window.scrollTo(0, 0);
      });
      await page.hover('#hexdump .b[data-i="151"]');
    },
  },
];

describe('screenshots against the committed baselines', () => {
  for (const state of STATES) {
    it(`${state.name}${UPDATE ? ' (writing the baseline)' : ''}`, async () => {
      const page = await pinned(state.hash ?? '', look(state.look));
      await page.mouse.move(0, 0);
      await state.act?.(page);
      check(state.name, await shoot(page));
      await page.close();
    });
  }

  it('the comparison fails a layout change of a few pixels, and forgives antialiasing', async () => {
    if (UPDATE) return;
    const page = await pinned('', look('1280x800 light'));
    await page.mouse.move(0, 0);
    const baseline = decodePng(readFileSync(join(BASELINES, 'build-1280x800-light.png')));
    // The same page again: the same pixels (within the allowance).
    expect(compareImages(decodePng(await shoot(page)), baseline).ratio).toBeLessThanOrEqual(MAX_RATIO);
    // The result panel 6 pixels lower: a regression the comparison must catch.
    await page.$eval('section.output', (el) => (el as HTMLElement).style.setProperty('margin-top', '6px'));
    expect(compareImages(decodePng(await shoot(page)), baseline).ratio).toBeGreaterThan(MAX_RATIO);
    await page.close();
  });
});
