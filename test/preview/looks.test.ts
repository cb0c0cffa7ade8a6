// Issue 15, point by point, in Chromium: every test runs at 1280×800 and at 390×844, each in the
// light and the dark colour scheme. (preview.test.ts covers the rest: golden bytes, budgets.)
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import { encodePeerTargetName, toHex } from '../../host/index.js';
import { DEFAULT_STATE } from '../../host/tools/preview/state.js';
import { goldenCases } from '../golden/cases.js';
import { base64, hexdumpC, windbgDb, windbgDq, wireshark, xxd } from './dumps.js';
import { LOOKS, useBrowser, type Look } from './harness.js';

const harness = useBrowser();

const GOOD = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' }); // 190 bytes
const hexLine = async (page: Page) => ((await page.textContent('#hex-line')) ?? '').trim();
const text = async (page: Page, selector: string) => (await page.textContent(selector)) ?? '';
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

async function inspect(page: Page, pasted: string): Promise<void> {
  await page.check('#mode-inspect');
  await page.fill('#hex-input', pasted);
}

/** Is the element drawn on screen, uncovered, at its centre (not under the sticky pane, not scrolled out of a box)? */
const uncovered = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((el) => {
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2;
  const y = r.top + r.height / 2;
  if (r.width === 0 || y < 0 || y > innerHeight || x < 0 || x > innerWidth) return false;
  const hit = document.elementFromPoint(x, y);
  return hit !== null && (hit === el || el.contains(hit) || hit.contains(el));
}));

/** WCAG contrast of every piece of visible text (and every placeholder) against what is behind it. */
function lowContrast(page: Page, min = 4.5) {
  return page.evaluate((minimum) => {
    type RGBA = { r: number; g: number; b: number; a: number };
    const parse = (c: string): RGBA[] => Array.from(c.matchAll(/rgba?\(([^)]+)\)/g), (m) => {
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p[3] ?? 1 };
    });
    const over = (top: RGBA, bottom: RGBA): RGBA => ({
      r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
    });
    const lum = ({ r, g, b }: RGBA) => {
      const f = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a: RGBA, b: RGBA) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    /** The colours that can be behind an element: its first opaque background, and every colour of a pattern on the way. */
    const backgrounds = (el: Element | null): RGBA[] => {
      const layers: RGBA[] = [];
      const patterns: RGBA[] = [];
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        for (const c of parse(cs.backgroundImage)) if (c.a > 0) patterns.push(c);
        const [c] = parse(cs.backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      let base: RGBA = { r: 255, g: 255, b: 255, a: 1 };
      if (layers.length === 0 || layers[layers.length - 1].a < 1) {
        base = matchMedia('(prefers-color-scheme: dark)').matches ? { r: 0, g: 0, b: 0, a: 1 } : base;
      }
      for (const l of layers.reverse()) base = over(l, base);
      return [base, ...patterns.map((p) => over(p, base))];
    };
    const failures: string[] = [];
    const check = (el: Element, color: string, what: string) => {
      const [fg] = parse(color);
      for (const bg of backgrounds(el)) {
        const r = ratio(over(fg, bg), bg);
        if (r < minimum) failures.push(`${what}: ${r.toFixed(2)}:1 (${color} on rgb(${[bg.r, bg.g, bg.b].map(Math.round).join(',')}))`);
      }
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || (n.textContent ?? '').trim() === '') continue;
      seen.add(el);
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      if (el.closest('.visually-hidden, button:disabled, noscript, option')) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;
      check(el, getComputedStyle(el).color, `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} "${(n.textContent ?? '').trim().slice(0, 30)}"`);
    }
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input[placeholder], textarea[placeholder]')) {
      if (el.value !== '' || !el.checkVisibility()) continue;
      check(el, getComputedStyle(el, '::placeholder').color, `placeholder of #${el.id}`);
    }
    return failures;
  }, min);
}

describe.each(LOOKS)('issue 15 at $name', (look: Look) => {
  const narrow = look.width < 600;
  const open = (hash = '') => harness.open(hash, look);

  // ---- 1. The dump and the fields together -----------------------------------------------------

  it('1: hovering any table row lights bytes that are on screen, and a clicked byte selects a row on screen', async () => {
    const page = await open();
    const rows = await page.locator('#fields tbody tr').count();
    for (const f of [rows - 1, 7, 0]) {
      // Scroll so that the row is at the bottom of the window, as when reading down the table.
      await page.locator(`#fields tr[data-f="${f}"]`).evaluate((tr) => tr.scrollIntoView({ block: 'end' }));
      await page.hover(`#fields tr[data-f="${f}"]`);
      const lit = await uncovered(page, '#hexdump .hv');
      expect(lit.length, `row ${f}`).toBeGreaterThan(0);
      expect(lit.every(Boolean), `row ${f}: its bytes are on screen`).toBe(true);
    }
    // From the top of the page, clicking the bytes of the name's length selects a row that is on screen.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('#hexdump .b[data-i="137"]');
    expect(await text(page, '#fields tr.sel')).toContain('PeerTargetNameStringLen');
    expect(await uncovered(page, '#fields tr.sel')).toEqual([true]);
    await page.click('#hexdump .b[data-i="9"]');
    expect(await text(page, '#fields tr.sel')).toMatch(/sin_family/);
    expect(await uncovered(page, '#fields tr.sel')).toEqual([true]);
    expect(harness.errors(page)).toEqual([]);
    await page.close();
  });

  it('1: the zero run of SOCKADDR_STORAGE is folded, and opens and closes', async () => {
    const page = await open();
    const perRow = narrow ? 8 : 16;
    const fold = page.locator('#hexdump button.fold');
    expect(await fold.count()).toBe(1);
    const [from, to] = narrow ? [16, 136] : [16, 128];
    expect(await fold.textContent()).toMatch(new RegExp(`Show ${to - from} zero bytes at ${from}–${to - 1}`));
    expect(await fold.getAttribute('aria-expanded')).toBe('false');
    // Folded: those bytes are not drawn, the rows are fewer.
    expect(await page.locator('#hexdump .b').count()).toBe(190 - (to - from));
    expect(await page.locator('#hexdump .hd-row').count()).toBe(Math.ceil(190 / perRow) - (to - from) / perRow);
    // A row whose bytes are folded lights the fold line instead.
    await page.hover('#fields tr:has-text("rest of SOCKADDR_STORAGE")');
    expect(await page.locator('#hexdump .hd-fold.hv').count()).toBe(1);
    await fold.click();
    expect(await page.locator('#hexdump .b').count()).toBe(190);
    expect(await page.locator('#hexdump button.fold').getAttribute('aria-expanded')).toBe('true');
    await page.locator('#hexdump button.fold').click();
    expect(await page.locator('#hexdump .b').count()).toBe(190 - (to - from));
    await page.close();
  });

  it('1: the status line names the hovered byte\'s field, offset, size and value', async () => {
    const page = await open();
    await page.hover('#hexdump .b[data-i="13"]');
    const line = await text(page, '#byte-status');
    expect(line).toContain('PeerAddress.sin_addr: offset 12, size 4, 192.0.2.10');
    expect(line).toContain('byte 13 (0xd) = 0x00');
    await page.hover('#hexdump .b[data-i="11"]');
    expect(await text(page, '#byte-status')).toMatch(/PeerAddress\.sin_port: offset 10, size 2, 4500 \(big-endian\).*byte 11 \(0xb\) = 0x94 \(148\)/);
    // The status line is in the sticky pane, just under the dump.
    const [dump, status] = await Promise.all([page.locator('#hexdump').boundingBox(), page.locator('#byte-status').boundingBox()]);
    expect(status!.y - (dump!.y + dump!.height)).toBeLessThan(12);
    await page.close();
  });

  // ---- 2. Invalid inputs -----------------------------------------------------------------------

  it('2: an invalid input looks invalid (its border and background), not like a valid one', async () => {
    const page = await open();
    await page.fill('#port', '0');
    expect(await page.getAttribute('#port', 'aria-invalid')).toBe('true');
    const style = (id: string) => page.$eval(id, (el) => {
      const cs = getComputedStyle(el);
      return { border: cs.borderTopColor, width: cs.borderTopWidth, background: cs.backgroundColor };
    });
    const bad = await page.evaluate(() => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--bad)';
      probe.style.backgroundColor = 'var(--bad-bg)';
      document.body.append(probe);
      const cs = getComputedStyle(probe);
      const out = { color: cs.color, background: cs.backgroundColor };
      probe.remove();
      return out;
    });
    const port = await style('#port');
    const address = await style('#address');
    expect(port).toEqual({ border: bad.color, width: '2px', background: bad.background });
    expect(address.border).not.toBe(bad.color);
    await page.close();
  });

  it('2: every problem of the form at once, each beside its field', async () => {
    const page = await open();
    await page.fill('#address', 'server.example.com');
    await page.fill('#port', '70000');
    await page.fill('#flow', 'x');
    await page.fill('#name', '');
    const expected: [string, RegExp][] = [
      ['address', /WSAEINVAL\s*\(10022\)\s*peer\.address/],
      ['port', /WSAEINVAL\s*\(10022\)\s*peer\.port/],
      ['flow', /WSAEINVAL\s*\(10022\)\s*peer\.flowInfo/],
      ['name', /WSAEINVAL\s*\(10022\)\s*targetName.*empty/],
    ];
    expect(await page.locator('.error:not([hidden])').count()).toBe(expected.length);
    for (const [id, message] of expected) {
      expect(await text(page, `#${id}-error`), id).toMatch(message);
      expect(await page.getAttribute(`#${id}`, 'aria-invalid'), id).toBe('true');
      // Beside its field: just below the input, nothing else in between.
      const [input, error] = await Promise.all([page.locator(`#${id}`).boundingBox(), page.locator(`#${id}-error`).boundingBox()]);
      const gap = error!.y - (input!.y + input!.height);
      expect(gap, id).toBeGreaterThanOrEqual(0);
      expect(gap, id).toBeLessThan(narrow ? 110 : 90);
    }
    expect(await text(page, '#status')).toMatch(/No buffer: 4 problems: WSAEINVAL \(10022\) on peer\.address, .* and WSAEINVAL \(10022\) on targetName/);
    expect(await page.locator('#problems li').count()).toBe(4);
    expect(await hexLine(page)).toBe('');
    await page.close();
  });

  it('2: no empty field shows a placeholder that looks like a value (the default or any other)', async () => {
    const page = await open();
    for (const id of ['address', 'port', 'zone', 'flow', 'name'] as const) {
      await page.fill(`#${id}`, '');
      const placeholder = (await page.getAttribute(`#${id}`, 'placeholder')) ?? '';
      expect(placeholder, id).not.toBe(DEFAULT_STATE[id]);
      // It reads as a note about the empty field, not as an entry: it starts with "empty" or "required".
      expect(placeholder, id).toMatch(/^(empty|required)\b/);
      const style = await page.$eval(`#${id}`, (el) => getComputedStyle(el, '::placeholder').fontStyle);
      expect(style, id).toBe('italic');
    }
    await page.close();
  });

  // ---- 3. Pastes ---------------------------------------------------------------------------------

  it('3: reads xxd, xxd -a, hexdump -C, WinDbg db/dq, Wireshark, base64 and C, and says which', async () => {
    const page = await open();
    const dq = concat(GOOD, new Uint8Array(2)); // dq shows whole quadwords: 2 bytes past the struct
    const cInit = (await text(page, '#c-init'));
    const cases: [string, string, RegExp, Uint8Array][] = [
      ['xxd', xxd(GOOD), /^Read as xxd output \(12 lines\): 190 bytes\.$/, GOOD],
      ['xxd -a', xxd(GOOD, true), /^Read as xxd output \(6 lines\): 190 bytes\.$/, GOOD],
      ['hexdump -C', hexdumpC(GOOD), /^Read as hexdump -C output \(6 lines\): 190 bytes\.$/, GOOD],
      ['WinDbg db', windbgDb(GOOD), /^Read as WinDbg db output \(12 lines, from address 14f8a0\): 190 bytes\.$/, GOOD],
      ['WinDbg dq', windbgDq(GOOD), /^Read as WinDbg dq output \(12 lines, from address 14f8a0\): 192 bytes\.$/, dq],
      ['Wireshark', wireshark(GOOD), /^Read as a Wireshark hex dump \(12 lines\): 190 bytes\.$/, GOOD],
      ['tshark -x', wireshark(GOOD, true), /^Read as a Wireshark hex dump \(12 lines\): 190 bytes\.$/, GOOD],
      ['base64', base64(GOOD), /^Read as base64 \(256 characters\): 190 bytes\.$/, GOOD],
      ['C initialiser', cInit, /^Read as a C initialiser \(190 elements\): 190 bytes\.$/, GOOD],
      ['hex', toHex(GOOD), /^Read as hex \(380 digits\): 190 bytes\.$/, GOOD],
    ];
    await page.check('#mode-inspect');
    for (const [name, pasted, said, bytes] of cases) {
      await page.fill('#hex-input', pasted);
      expect(await hexLine(page), name).toBe(toHex(bytes));
      expect(await text(page, '#paste-format'), name).toMatch(said);
      expect(await page.isHidden('#hex-input-error'), name).toBe(true);
    }
    await page.close();
  });

  it('3: xxd output dropped (or opened) as a file is read as xxd', async () => {
    const page = await open();
    const dump = xxd(GOOD);
    await page.evaluate((content) => {
      const data = new DataTransfer();
      data.items.add(new File([content], 'peer.xxd', { type: 'text/plain' }));
      document.getElementById('mode-inspect')?.click();
      document.getElementById('inspect-form')?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, dump);
    await expect.poll(() => hexLine(page)).toBe(toHex(GOOD));
    expect(await text(page, '#paste-format')).toMatch(/^Read as xxd output/);
    expect(await text(page, '#copy-status')).toBe(`Read peer.xxd (${dump.length} bytes of text).`);
    expect(await page.inputValue('#hex-input')).toBe(dump);
    await page.setInputFiles('#file-input', { name: 'peer.hd', mimeType: 'text/plain', buffer: Buffer.from(hexdumpC(GOOD)) });
    await expect.poll(() => text(page, '#paste-format')).toMatch(/^Read as hexdump -C output/);
    expect(await hexLine(page)).toBe(toHex(GOOD));
    await page.close();
  });

  it('3: an error names its line and column in the text as pasted, and selects it', async () => {
    const page = await open();
    const lines = xxd(GOOD).split('\n');
    lines[2] = lines[2].replace(/^(00000020: 0000 )0000/, '$100z0'); // line 3
    const pasted = lines.join('\n');
    await inspect(page, pasted);
    const index = pasted.indexOf('z');
    const column = index - pasted.lastIndexOf('\n', index);
    expect(await text(page, '#hex-input-error')).toContain(`"z" is not a hex digit (line 3, column ${column}, read as xxd output)`);
    expect(await text(page, '#hex-input-error mark')).toBe('z');
    expect(await text(page, '#status')).toContain(`line 3, column ${column}`);
    await page.click('#hex-input-error button.select-error');
    expect(await page.$eval('#hex-input', (el) => [(el as HTMLTextAreaElement).selectionStart, (el as HTMLTextAreaElement).selectionEnd])).toEqual([index, index + 1]);
    // An offset that does not follow on is pointed at too, on its own line.
    const skipped = xxd(GOOD).replace('00000030:', '00000040:');
    await page.fill('#hex-input', skipped);
    expect(await text(page, '#hex-input-error')).toContain('offset 00000040 does not follow on: 48 bytes so far, so this line should start at 00000030 (line 4, column 1');
    await page.close();
  });

  it('3: the IP address box splits 192.0.2.10:4500 and [fe80::1%7]:5000 into their fields, as the API reads them', async () => {
    const page = await open();
    for (const [typed, address, port, zone] of [['[fe80::1%7]:5000', 'fe80::1', '5000', '7'], ['192.0.2.10:4500', '192.0.2.10', '4500', '']]) {
      await page.fill('#zone', '');
      await page.fill('#port', '');
      await page.fill('#address', typed);
      // While it is still in one box, it already means its parts.
      const api = toHex(encodePeerTargetName({ protocol: 'ipsec', peer: typed, targetName: 'host/server.example.com' }));
      expect(await hexLine(page), typed).toBe(api);
      await page.press('#address', 'Tab');
      expect([await page.inputValue('#address'), await page.inputValue('#port'), await page.inputValue('#zone')], typed).toEqual([address, port, zone]);
      expect(await hexLine(page), typed).toBe(api);
      expect(await text(page, '#copy-status'), typed).toContain(`Split ${typed} into address ${address}`);
    }
    // Pasted: split at once.
    await page.$eval('#address', (el) => {
      (el as HTMLInputElement).value = '[2001:db8::1]:500';
      el.dispatchEvent(new InputEvent('input', { inputType: 'insertFromPaste', bubbles: true }));
    });
    expect([await page.inputValue('#address'), await page.inputValue('#port')]).toEqual(['2001:db8::1', '500']);
    await page.close();
  });

  // ---- 4. Inspect mode and lengths -------------------------------------------------------------

  it('4: a stray tail, 64 KiB of zeros and a buffer cut before its NUL each get a note with the difference', async () => {
    const page = await open();
    await inspect(page, toHex(concat(GOOD, new Uint8Array(10))));
    expect(await text(page, '#status')).toMatch(/200 bytes, valid/);
    expect(await text(page, '#length-note')).toBe('Length: 200 bytes is 10 bytes more than the struct needs (144 + 2 × 23 = 190): ' +
      'bytes 190–199 are all zero and lie beyond it. The validator accepts it, but an encoder writes 190 and passes PeerTargetNameLen = 190.');
    // 88,000 characters: set at once (page.fill inserts them as typing, which takes seconds).
    await page.$eval('#hex-input', (el, value) => {
      (el as HTMLTextAreaElement).value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, base64(concat(GOOD, new Uint8Array(65536))));
    expect(await text(page, '#length-note')).toContain('65,726 bytes is 65,536 bytes more than the struct needs (144 + 2 × 23 = 190)');
    // The zeros fold: the dump stays short.
    expect(await page.locator('#hexdump .hd-row').count()).toBeLessThan(20);
    // Too long for a link as pasted: the link holds the bytes, and says so.
    expect(await text(page, '#notes')).toContain('The link holds these bytes as base64');
    expect(page.url()).toContain('hex=data%3Aapplication%2Foctet-stream%3Bbase64%2CAQAAAAAAAAACABGU');
    const long = await hexLine(page);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    expect(await hexLine(page)).toBe(long);
    await page.fill('#hex-input', toHex(GOOD.subarray(0, 186)));
    expect(await text(page, '#status')).toMatch(/186 bytes, valid/);
    expect(await text(page, '#length-note')).toBe('Length: 186 bytes is 4 bytes short of 144 + 2 × 23 = 190: it is cut before the NUL ' +
      'terminator (bytes 186–187) and the tail padding (bytes 188–189). The validator accepts it, but an encoder writes 190 bytes.');
    await page.fill('#hex-input', toHex(GOOD));
    expect(await page.locator('#length-note').count()).toBe(0);
    await page.close();
  });

  it('4: a truncated buffer still shows every field whose bytes are present', async () => {
    const page = await open();
    await inspect(page, toHex(GOOD.subarray(0, 100)));
    const fields = await page.$$eval('#fields tbody tr', (rows) => rows.map((r) => [r.querySelector('td:nth-child(4) code')?.textContent, r.querySelector('td.value')?.textContent]));
    expect(fields).toEqual([
      ['SecurityProtocol', '1 (ipsec)'],
      ['padding', 'zero (alignment of PeerAddress)'],
      ['PeerAddress.sin_family', '2 (AF_INET)'],
      ['PeerAddress.sin_port', '4500 (big-endian)'],
      ['PeerAddress.sin_addr', '192.0.2.10'],
      ['PeerAddress.sin_zero', 'zero'],
      ['PeerAddress (rest of SOCKADDR_STORAGE)', '? (cut short: 76 of 112 bytes)'],
    ]);
    expect(await text(page, '#fields tbody')).not.toContain('not AF_INET');
    expect(await text(page, '#status')).toMatch(/100 bytes, 1 problem: WSAEMSGSIZE on length/);
    expect(await text(page, '#length-note')).toContain('cut short before PeerTargetNameStringLen (offset 136)');
    // The C initialiser's summary has the peer too.
    expect(await text(page, '#c-init')).toContain('peer 192.0.2.10:4500');
    await page.close();
  });

  it('4: an ipsec2 buffer with its length in units is a unit mismatch, with the fix', async () => {
    const page = await open();
    const units = encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' }, { lengthUnit: 'units' });
    await inspect(page, toHex(units));
    expect(await text(page, '#status')).toBe('190 bytes, 2 problems: WSAEINVAL on stringLength, WSAEINVAL on tail, ' +
      'all from a length counted in UTF-16 units but read in bytes.');
    const note = await text(page, '#unit-mismatch');
    expect(note).toContain('Unit mismatch: PeerTargetNameStringLen is 23. Read in bytes (auto with ipsec2) the buffer breaks the rules');
    expect(note).toContain('read in UTF-16 units the name is "host/server.example.com" and every rule holds. The writer counted UTF-16 units.');
    expect(note).toContain('Fix: read it in units, or rewrite the field as 46 (bytes)');
    expect(await page.locator('#length-note').count()).toBe(0); // not explained as a length or tail error
    await page.click('#unit-mismatch button[data-act="read-other"]');
    expect(await page.inputValue('#unit')).toBe('units');
    expect(await text(page, '#status')).toMatch(/^190 bytes, valid/);
    await page.selectOption('#unit', 'auto');
    await page.click('#unit-mismatch button[data-act="rewrite-length"]');
    const fixed = await hexLine(page);
    expect(fixed).toBe(toHex(encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' })));
    expect(await text(page, '#status')).toMatch(/^190 bytes, valid/);
    await page.close();
  });

  it('4: "edit in the form" hands inspected bytes back to build mode', async () => {
    const page = await open();
    const c = goldenCases.find((g) => g.name === 'ipv6_zone')!;
    const bytes = encodePeerTargetName(c.input, c.options);
    await inspect(page, xxd(bytes));
    await page.click('#to-form');
    expect(await page.isChecked('#mode-build')).toBe(true);
    expect({
      protocol: await page.inputValue('#protocol'), address: await page.inputValue('#address'), port: await page.inputValue('#port'),
      zone: await page.inputValue('#zone'), name: await page.inputValue('#name'),
    }).toEqual({ protocol: 'ipsec', address: 'fe80::1', port: '5000', zone: '7', name: 'host/server.example.com' });
    expect(await hexLine(page)).toBe(toHex(bytes));
    expect(await text(page, '#copy-status')).toBe(`Moved to the form: it rebuilds the same ${bytes.length} bytes.`);
    // Bytes the form cannot express are said to differ.
    await inspect(page, toHex(concat(bytes, new Uint8Array(6))));
    await page.click('#to-form');
    expect(await text(page, '#copy-status')).toMatch(/rebuilds 190 bytes, which differ from the 196 inspected in 6 bytes/);
    await page.close();
  });

  // ---- 5. The URL ------------------------------------------------------------------------------

  it('5: a lone surrogate survives the link as a lone surrogate', async () => {
    const page = await open();
    // Typed in the page itself: the test's own channel to the browser would turn it into U+FFFD.
    await page.$eval('#name', (el) => {
      (el as HTMLInputElement).value = `host/a${String.fromCharCode(0xd800)}b`;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(page.url()).toContain('name=host%2Fa%ED%A0%80b');
    expect(await text(page, '#name-error')).toMatch(/targetName/);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    const units = await page.$eval('#name', (el) => Array.from((el as HTMLInputElement).value, (c) => c.charCodeAt(0)));
    expect(units).toEqual([...'host/a'].map((c) => c.charCodeAt(0)).concat([0xd800, 0x62]));
    expect(await text(page, '#name-error')).toMatch(/WSAEINVAL.*targetName/);
    expect(await page.isHidden('#link-problems')).toBe(true);
    await page.close();
  });

  it('5: a broken escape in the link is reported and kept, not replaced', async () => {
    const page = await open('#mode=build&protocol=ipsec&address=192.0.2.10&port=45%2&name=host%2Fa%E4%B8&unit=auto&socket=dgram');
    expect(await page.isVisible('#link-problems')).toBe(true);
    const report = await text(page, '#link-problems');
    expect(report).toContain('name: "%E4%B8" is an incomplete UTF-8 sequence, at character');
    expect(report).toContain('port: "%2" is not an escape');
    expect(await page.inputValue('#name')).toBe('host/a%E4%B8');
    expect(await page.inputValue('#port')).toBe('45%2');
    expect((await page.inputValue('#name')) + (await page.inputValue('#port'))).not.toContain('\uFFFD');
    // Editing makes the page the new truth: the report goes.
    await page.fill('#port', '4500');
    expect(await page.isHidden('#link-problems')).toBe(true);
    await page.close();
  });

  it('5: both modes\' state survives a reload, the pasted text exactly as pasted', async () => {
    const page = await open();
    await page.selectOption('#protocol', 'ipsec2');
    await page.fill('#address', 'fe80::1');
    await page.fill('#zone', '12');
    await page.fill('#port', '');
    await page.fill('#name', 'host/\u670d\u52a1\u5668 & co?#%41+');
    await page.selectOption('#socket', 'stream');
    const pasted = windbgDb(GOOD);
    await inspect(page, pasted);
    for (const mode of ['inspect', 'build'] as const) {
      await page.check(`#mode-${mode}`);
      await page.reload();
      await page.waitForSelector('html[data-ready="true"]');
      expect(await page.isChecked(`#mode-${mode}`)).toBe(true);
      expect(await page.inputValue('#hex-input')).toBe(pasted);
      expect({
        protocol: await page.inputValue('#protocol'), address: await page.inputValue('#address'), zone: await page.inputValue('#zone'),
        port: await page.inputValue('#port'), name: await page.inputValue('#name'), socket: await page.inputValue('#socket'),
      }).toEqual({ protocol: 'ipsec2', address: 'fe80::1', zone: '12', port: '', name: 'host/\u670d\u52a1\u5668 & co?#%41+', socket: 'stream' });
    }
    await page.close();
  });

  // ---- 6. The name, character by character ----------------------------------------------------

  it('6: a name byte shows its UTF-16 unit, character and surrogate pair; the text column shows characters', async () => {
    const page = await open();
    const name = 'h\u{1F600}\u670d/x';
    await page.fill('#name', name);
    // AllStrings starts at 140: h (140), U+D83D (142), U+DE00 (144), 服 (146), / (148), x (150).
    await page.hover('#hexdump .b[data-i="143"]');
    expect(await text(page, '#byte-status')).toContain('AllStrings[1] = UTF-16 unit U+D83D (bytes 142–143, little-endian 3d d8): ' +
      'high surrogate of U+1F600 "\u{1F600}", pair D83D DE00 (bytes 142–145)');
    await page.hover('#hexdump .b[data-i="144"]');
    expect(await text(page, '#byte-status')).toContain('AllStrings[2] = UTF-16 unit U+DE00 (bytes 144–145, little-endian 00 de): low surrogate of U+1F600');
    await page.hover('#hexdump .b[data-i="146"]');
    expect(await text(page, '#byte-status')).toContain('AllStrings[3] = UTF-16 unit U+670D (bytes 146–147, little-endian 0d 67): "\u670d"');
    // The text column: the name's characters, in order, not "h.=.".
    expect((await page.$$eval('#hexdump .u', (els) => els.map((e) => e.textContent))).join('')).toBe(name);
    // The default name reads as itself too.
    await page.fill('#name', 'host/server.example.com');
    expect((await page.$$eval('#hexdump .u', (els) => els.map((e) => e.textContent))).join('')).toBe('host/server.example.com');
    // A lone surrogate (only a pasted buffer can hold one) is said to be one.
    await inspect(page, toHex((() => {
      const b = GOOD.slice();
      b[142] = 0x00;
      b[143] = 0xd8;
      return b;
    })()));
    await page.hover('#hexdump .b[data-i="142"]');
    expect(await text(page, '#byte-status')).toContain('U+D800 (bytes 142–143, little-endian 00 d8): a lone high surrogate');
    expect(await page.locator('#hexdump .u.lone').count()).toBe(1);
    await page.close();
  });

  // ---- 7. Dark, mobile, screen readers, keyboard -------------------------------------------------

  it('7: follows the colour scheme, with color-scheme set and every text at 4.5:1 or more', async () => {
    const page = await open();
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toBe('light dark');
    expect(await page.getAttribute('meta[name="color-scheme"]', 'content')).toBe('light dark');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const level = Number(/\d+/.exec(background)![0]);
    if (look.scheme === 'dark') expect(level, background).toBeLessThan(50);
    else expect(level, background).toBeGreaterThan(200);
    // The states with the most colours: the default build with a hover and a selection, a form
    // with errors, and a broken pasted buffer with its notes and problems.
    await page.click('#hexdump .b[data-i="137"]');
    await page.hover('#hexdump .b[data-i="12"]');
    expect(await lowContrast(page), 'build').toEqual([]);
    await page.fill('#port', '0');
    await page.fill('#name', '');
    expect(await lowContrast(page), 'errors').toEqual([]);
    const units = encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' }, { lengthUnit: 'units' });
    const bad = units.slice();
    bad[5] = 1;
    await inspect(page, toHex(bad));
    await page.click('#problems .problem >> nth=0');
    expect(await lowContrast(page), 'inspect').toEqual([]);
    await page.fill('#hex-input', '01 02 zz');
    expect(await lowContrast(page), 'paste error').toEqual([]);
    await page.close();
  });

  it('7: no sideways scroll; the title wraps; the dump is readable; result before form on a phone; the table shows value and bytes', async () => {
    const page = await open();
    const states: [string, () => Promise<void>][] = [
      ['default', async () => {}],
      ['errors', async () => {
        await page.fill('#address', 'a-very-long-host-name-that-is-not-an-address.example.com');
        await page.fill('#name', '');
      }],
      ['long name', async () => {
        await page.fill('#address', '2001:db8:1234:5678:9abc:def0:1234:5678');
        await page.fill('#name', 'host/' + 'a-very-long-label.'.repeat(6) + 'example.com');
      }],
      ['inspect', async () => inspect(page, windbgDq(GOOD))],
      ['C initialiser', async () => page.click('summary:has-text("C initialiser")')],
    ];
    for (const [name, setUp] of states) {
      await setUp();
      const sizes = await page.evaluate(() => ({
        page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
        title: [document.querySelector('h1')!.scrollWidth, document.querySelector('h1')!.clientWidth],
        dump: [document.getElementById('hexdump')!.scrollWidth, document.getElementById('hexdump')!.clientWidth],
        table: [document.querySelector('.table-wrap')!.scrollWidth, document.querySelector('.table-wrap')!.clientWidth],
      }));
      expect(sizes.page[0], `${name}: page`).toBeLessThanOrEqual(sizes.page[1]);
      expect(sizes.title[0], `${name}: title`).toBeLessThanOrEqual(sizes.title[1]);
      expect(sizes.dump[0], `${name}: dump`).toBeLessThanOrEqual(sizes.dump[1]);
      expect(sizes.table[0], `${name}: table`).toBeLessThanOrEqual(sizes.table[1]);
    }
    await page.check('#mode-build');
    await page.fill('#address', '192.0.2.10');
    await page.fill('#name', 'host/server.example.com');
    // The dump: 8 bytes a row on a phone, 16 otherwise, in type no smaller than 13px.
    expect(await page.locator('#hexdump .hd-row >> nth=0').locator('.b').count()).toBe(narrow ? 8 : 16);
    expect(await page.$eval('#hexdump .b', (el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(13);
    // The title wraps on a phone rather than run off the screen.
    const title = await page.locator('h1').boundingBox();
    expect(title!.x + title!.width).toBeLessThanOrEqual(look.width);
    if (narrow) expect(title!.height).toBeGreaterThan(40);
    // The result before the long form on a phone; beside it otherwise.
    const [result, form] = await Promise.all([page.locator('section.output').boundingBox(), page.locator('section.controls').boundingBox()]);
    if (narrow) expect(result!.y + result!.height).toBeLessThanOrEqual(form!.y);
    else expect(result!.x).toBeGreaterThan(form!.x + form!.width - 1);
    // Every row of the table shows its value and bytes within the screen.
    const cells = await page.$$eval('#fields tbody tr', (rows) => rows.map((r) => {
      const value = r.querySelector('td.value')!.getBoundingClientRect();
      const bytes = r.querySelector('td .hex')!.getBoundingClientRect();
      return { value: value.width > 20 && value.right <= innerWidth, bytes: bytes.width > 20 && bytes.right <= innerWidth };
    }));
    expect(cells.length).toBe(10);
    expect(cells.every((c) => c.value && c.bytes), JSON.stringify(cells)).toBe(true);
    await page.close();
  });

  it('7: the dump reads sensibly to a screen reader', async () => {
    const page = await open();
    const tree = await page.locator('#hexdump').ariaSnapshot();
    // A list of rows, each naming its fields and their bytes, the fold a button saying what it hides.
    expect(tree).toMatch(/^- list "Bytes":/);
    expect(tree).toContain('- listitem: "Offset 0: SecurityProtocol 01 00 00 00; padding 00 00 00 00' +
      (narrow ? '."\n  - listitem: "Offset 8: sin_family 02 00; sin_port 11 94; sin_addr c0 00 02 0a."'
        : '; sin_family 02 00; sin_port 11 94; sin_addr c0 00 02 0a."'));
    expect(tree).toMatch(/- button "⋯ Show 1[12]\d zero bytes at 16–1[23]\d \(sin_zero, rest of SOCKADDR_STORAGE\)"/);
    expect(tree).toContain(narrow ? 'AllStrings \\"st/s\\" 73 00 74 00 2f 00 73 00.' : 'AllStrings \\"st/serve\\" 73 00 74 00 2f 00 73 00 65 00 72 00 76 00 65 00.');
    // None of the visual columns: no dotted ASCII, no bare offsets.
    expect(tree).not.toMatch(/·|\.\.\.\./);
    expect(await page.getAttribute('#hexdump', 'aria-describedby')).toBe('hexdump-note');
    await page.close();
  });

  it('7: the table is one tab stop, with arrow keys (and Home, End) inside', async () => {
    const page = await open();
    const active = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.tagName === 'TR' ? `row${el.dataset.f}` : el?.id || el?.tagName.toLowerCase() || '';
    });
    const selected = () => page.$$eval('#hexdump .b.sel', (els) => els.map((e) => Number((e as HTMLElement).dataset.i)));
    await page.focus('#to-inspect');
    await page.keyboard.press('Tab');
    // The fold button sits in the dump, before the table.
    if ((await active()) === '') await page.keyboard.press('Tab');
    const order: string[] = [await active()];
    for (let i = 0; i < 2; i++) {
      await page.keyboard.press('Tab');
      order.push(await active());
    }
    expect(order[1]).toBe('row0');
    expect(order[2]).not.toMatch(/^row/);
    expect(await page.$$eval('#fields tbody tr[tabindex="0"]', (rows) => rows.length)).toBe(1);
    await page.focus('#fields tr[data-f="0"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await active()).toBe('row2');
    expect(await selected()).toEqual([8, 9]);
    await page.keyboard.press('End');
    expect(await active()).toBe('row9');
    expect(await selected()).toEqual([186, 187, 188, 189]);
    await page.keyboard.press('Home');
    expect(await active()).toBe('row0');
    await page.keyboard.press('ArrowDown');
    // Leaving and coming back lands on the row last chosen.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await active()).toBe('row1');
    await page.close();
  });

  // ---- 8. The C initialiser --------------------------------------------------------------------

  it('8: the C initialiser is aligned and followed by a sample WSASetSocketPeerTargetName call', async () => {
    const page = await open();
    const c = await text(page, '#c-init');
    expect(c).toContain('#  define PTN_ALIGN8 __declspec(align(8))');
    expect(c).toContain('#  define PTN_ALIGN8 _Alignas(8)');
    expect(c).toMatch(/^PTN_ALIGN8 static const unsigned char peer_target_name\[190\] = \{$/m);
    expect(c).toContain('    if (WSASetSocketPeerTargetName(s, (const SOCKET_PEER_TARGET_NAME *)peer_target_name,\n' +
      '                                   (ULONG)sizeof peer_target_name, NULL, NULL) == SOCKET_ERROR)');
    expect(c.indexOf('WSASetSocketPeerTargetName(s')).toBeGreaterThan(c.indexOf('};'));
    // Pasted back, it reads as the same bytes.
    await inspect(page, c);
    expect(await hexLine(page)).toBe(toHex(GOOD));
    await page.close();
  });
});

// A sanity check of the contrast probe itself: it must catch low contrast when there is some.
describe('the contrast probe', () => {
  it('flags grey on grey', async () => {
    const page = await harness.open('', LOOKS[0]);
    // (The page's CSP allows no added style sheet; the CSSOM is allowed.)
    await page.$eval('#status', (el) => {
      (el as HTMLElement).style.setProperty('color', '#999', 'important');
      (el as HTMLElement).style.setProperty('background', '#aaa', 'important');
    });
    expect((await lowContrast(page)).join('\n')).toMatch(/p#status/);
    await page.close();
  });
});
