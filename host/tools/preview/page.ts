// The preview page: wires the form, the paste box and the output to the codec's public API (the
// same module Node uses, bundled for the browser). Rendering is synchronous on every keystroke:
// encoding one struct costs microseconds, so there is nothing to debounce.
import {
  encodePeerTargetName,
  inspectPeerTargetName,
  toHex,
  PeerTargetNameError,
  ready,
  type CodecOptions,
  type DecodedPeer,
  type FieldRow,
  type InspectedPeerTargetName,
} from '../../codec/api.js';
import { cInitialiser } from './cinit.js';
import { encodeAll, errorText, formFromDecoded, optionsFromState, splitAddress, withSplitAddress, type ControlId } from './form.js';
import { HexDump, describeByte, escapeHtml, fieldClasses, type ByteRange } from './hexdump.js';
import { lengthNote, presentFields, unitMismatch, type UnitMismatch } from './notes.js';
import { formatPhrase, readPaste, type PasteResult } from './paste.js';
import { escapeComponent, readHash, serializeState, type Mode, type PageState } from './state.js';

// A browser's main thread compiles the codec's WebAssembly (over 4 KB) only asynchronously.
await ready();
performance.mark('ptn:codec-ready');

/** More bytes than any struct needs is someone's whole file: show the start, say so. */
const MAX_DUMP_BYTES = 4096;
/** Pasted text longer than this (escaped) goes into the link as base64 of its bytes instead. */
const MAX_LINK_TEXT = 32 * 1024;

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`preview: #${id} is missing from index.html`);
  return el as T;
};

const controls = {
  protocol: byId<HTMLSelectElement>('protocol'),
  address: byId<HTMLInputElement>('address'),
  port: byId<HTMLInputElement>('port'),
  zone: byId<HTMLInputElement>('zone'),
  flow: byId<HTMLInputElement>('flow'),
  name: byId<HTMLInputElement>('name'),
  unit: byId<HTMLSelectElement>('unit'),
  socket: byId<HTMLSelectElement>('socket'),
};
const hexInput = byId<HTMLTextAreaElement>('hex-input');
const modeRadios = { build: byId<HTMLInputElement>('mode-build'), inspect: byId<HTMLInputElement>('mode-inspect') };
const out = {
  status: byId('status'),
  notes: byId('notes'),
  unitNow: byId('unit-now'),
  tbody: byId('fields').querySelector('tbody') as HTMLTableSectionElement,
  problems: byId('problems'),
  hexLine: byId('hex-line'),
  cInit: byId('c-init'),
  copyStatus: byId('copy-status'),
  copyHex: byId<HTMLButtonElement>('copy-hex'),
  copyC: byId<HTMLButtonElement>('copy-c'),
  toInspect: byId<HTMLButtonElement>('to-inspect'),
  toForm: byId<HTMLButtonElement>('to-form'),
  byteStatus: byId('byte-status'),
  pasteFormat: byId('paste-format'),
  linkProblems: byId('link-problems'),
  pane: byId('dump-pane'),
};
const hexdumpEl = byId('hexdump');
const fieldsTable = byId<HTMLTableElement>('fields');
const dump = new HexDump(hexdumpEl);
/** A phone's width: 8 bytes a row, so the dump needs no sideways scrolling. */
const narrow = window.matchMedia('(max-width: 600px)');
/** Folded zero runs the reader opened, by first byte. */
const openFolds = new Set<number>();

const initial = readHash(location.hash);
let state: PageState = initial.state;

/** What the last render produced: the copy buttons, the highlighting and the notes work from it. */
interface View {
  bytes: Uint8Array | null;
  report: InspectedPeerTargetName | null;
  summary: string;
  mismatch?: UnitMismatch;
}
let view: View = { bytes: null, report: null, summary: '' };

// ---- State <-> controls -----------------------------------------------------------------------

function writeControls(): void {
  for (const key of Object.keys(controls) as (keyof typeof controls)[]) controls[key].value = state[key];
  hexInput.value = state.hex;
  modeRadios[state.mode].checked = true;
  showMode(state.mode);
}

function readControls(): void {
  state = {
    ...state,
    protocol: controls.protocol.value as PageState['protocol'],
    address: controls.address.value,
    port: controls.port.value,
    zone: controls.zone.value,
    flow: controls.flow.value,
    name: controls.name.value,
    unit: controls.unit.value as PageState['unit'],
    socket: controls.socket.value as PageState['socket'],
    hex: hexInput.value,
  };
}

function showMode(mode: Mode): void {
  document.body.dataset.mode = mode;
  for (const el of document.querySelectorAll<HTMLElement>('.mode-build')) el.hidden = mode !== 'build';
  for (const el of document.querySelectorAll<HTMLElement>('.mode-inspect')) el.hidden = mode !== 'inspect';
}

function showLinkProblems(problems: readonly string[]): void {
  out.linkProblems.hidden = problems.length === 0;
  out.linkProblems.innerHTML = problems.length === 0 ? ''
    : `<p><strong>This link could not be read exactly as written:</strong></p><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`;
}

// ---- Inline errors ----------------------------------------------------------------------------

const ERROR_SLOTS: Record<ControlId | 'hex' | 'build', string> = {
  protocol: 'protocol-error', address: 'address-error', port: 'port-error', zone: 'zone-error',
  flow: 'flow-error', name: 'name-error', unit: 'build-error', socket: 'socket-error',
  hex: 'hex-input-error', build: 'build-error',
};

function clearErrors(): void {
  for (const id of new Set(Object.values(ERROR_SLOTS))) {
    const el = byId(id);
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of [...Object.values(controls), hexInput]) el.removeAttribute('aria-invalid');
}

/** `WSAEINVAL (10022) peer.port — port 0 is not a valid peer port`, as HTML. */
function errorHtml(error: PeerTargetNameError): string {
  return `<span class="code">${error.code}</span> (<span class="errno">${error.errno}</span>) ` +
    `<code class="field">${escapeHtml(error.field)}</code> — ${escapeHtml(errorText(error))}`;
}

function showError(slot: ControlId | 'hex' | 'build', error: PeerTargetNameError, extraHtml = ''): void {
  const el = byId(ERROR_SLOTS[slot]);
  el.innerHTML = (el.hidden ? '' : el.innerHTML + '<br>') + errorHtml(error) + extraHtml;
  el.hidden = false;
  const control = slot === 'hex' ? hexInput : slot === 'build' ? undefined : controls[slot];
  control?.setAttribute('aria-invalid', 'true');
}

/** The pasted line an error is on, with the bad characters marked, and a button that selects them. */
function pasteErrorHtml(paste: Extract<PasteResult, { ok: false }>): string {
  if (!paste.at) return '';
  const { index, length, column } = paste.at;
  const text = state.hex;
  const lineStart = index - (column - 1);
  let lineEnd = text.slice(lineStart).search(/\r|\n/);
  lineEnd = lineEnd < 0 ? text.length : lineStart + lineEnd;
  // Long lines are shown around the error only.
  const from = Math.max(lineStart, index - 40);
  const to = Math.min(lineEnd, index + length + 40);
  const before = (from > lineStart ? '…' : '') + text.slice(from, index);
  const bad = text.slice(index, Math.min(index + length, lineEnd)) || ' ';
  const after = text.slice(index + bad.length, to) + (to < lineEnd ? '…' : '');
  return `<pre class="snippet" aria-hidden="true">${escapeHtml(before)}<mark>${escapeHtml(bad)}</mark>${escapeHtml(after)}</pre>` +
    `<button type="button" class="select-error" data-from="${index}" data-to="${index + length}">Select it in the box</button>`;
}

// ---- Rendering --------------------------------------------------------------------------------

const isCodecError = (e: unknown): e is PeerTargetNameError =>
  e instanceof PeerTargetNameError || (e instanceof Error && e.name === 'PeerTargetNameError');

function peerText(peer: DecodedPeer | null | undefined): string {
  if (peer === undefined) return 'peer unknown (buffer too short)';
  if (peer === null) return 'no peer (PeerAddress all zero)';
  if (peer.family === 'ipv4') return `peer ${peer.address}:${peer.port}`;
  const zone = peer.scopeId !== 0 ? `%${peer.scopeId}` : '';
  const flow = peer.flowInfo !== 0 ? `, flowinfo ${peer.flowInfo}` : '';
  return `peer [${peer.address}${zone}]:${peer.port}${flow}`;
}

const unitWords = (u: 'units' | 'bytes') => (u === 'units' ? 'UTF-16 units' : 'bytes');
const protocolWords = (p: unknown) => (typeof p === 'string' ? p : `protocol ${String(p)}`);

/** The sentence under the length-unit select: what the policy made of this name, in numbers. */
function unitSentence(report: InspectedPeerTargetName | null): string {
  const policy = state.unit;
  const v = report?.value;
  if (!v || v.stringLength === undefined || v.lengthUnit === undefined) {
    return policy === 'auto' ? 'auto: UTF-16 units for default and ipsec, bytes for ipsec2.' : `Forced: ${unitWords(policy)}.`;
  }
  const why = policy === 'auto' ? `auto with ${protocolWords(v.protocol)}` : `forced to ${policy}`;
  const units = (v.targetName ?? '').length;
  const other = v.lengthUnit === 'units' ? 'bytes' : 'units';
  if (state.mode === 'build') {
    return `PeerTargetNameStringLen = ${v.stringLength} (${unitWords(v.lengthUnit)}, ${why}): the name is ${units} ` +
      `UTF-16 unit${units === 1 ? '' : 's'} = ${2 * units} bytes. Counted in ${other} it would be ` +
      `${other === 'bytes' ? 2 * units : units}.`;
  }
  return `PeerTargetNameStringLen holds ${v.stringLength}, read as ${unitWords(v.lengthUnit)} (${why}). ` +
    `If the writer counted ${unitWords(other)}, choose "${other}".`;
}

function summaryOf(report: InspectedPeerTargetName): string {
  const v = report.value;
  const protocol = v.protocol === undefined ? 'protocol unknown' : `protocol ${String(v.protocol)}`;
  const name = v.targetName !== undefined ? `target name ${JSON.stringify(v.targetName)}` : 'no target name';
  const len = v.stringLength !== undefined && v.lengthUnit !== undefined
    ? `PeerTargetNameStringLen ${v.stringLength} (${unitWords(v.lengthUnit)}; length unit policy ${state.unit})`
    : 'PeerTargetNameStringLen unknown';
  return `${protocol}, ${peerText(v.peer)},\n${name},\n${len}.`;
}

/** A field's bytes for the table: spaced, long zero runs counted, long fields cut (the dump has them all). */
function bytesCell(hex: string): string {
  const n = hex.length / 2;
  if (n > 16 && /^0+$/.test(hex)) return `00 × ${n}`;
  const shown = (n > 16 ? hex.slice(0, 32) : hex).replace(/(..)(?!$)/g, '$1 ');
  return n > 16 ? `${shown} … (${n} bytes)` : shown;
}

/** A C name with line-break chances after its dots (a phone's narrow column). */
const breakable = (name: string) => escapeHtml(name).replace(/\.(?=\w)/g, '.<wbr>');

/** Which row is the table's one tab stop (the selected one, else the first). */
let tabRow = 0;

function renderFields(fields: readonly FieldRow[]): void {
  tabRow = Math.min(tabRow, Math.max(0, fields.length - 1));
  fieldsTable.classList.toggle('no-problems', !fields.some((row) => row.problems.length > 0));
  out.tbody.innerHTML = fields.map((row, f) => {
    const flag = row.problems.length > 0 ? `⚠ ${row.problems.map(escapeHtml).join(', ')}` : '';
    return `<tr tabindex="${f === tabRow ? 0 : -1}" data-f="${f}" class="row-${row.kind}${row.problems.length ? ' has-problem' : ''}">` +
      `<td><span class="sw ${fieldClasses(row, f)}">${f + 1}</span></td>` +
      `<td class="num col-offset">${row.offset}</td><td class="num col-size">${row.size}</td>` +
      `<td><code>${breakable(row.field)}</code>${row.kind !== 'field' ? ` <span class="kind">${row.kind}</span>` : ''}` +
      `<span class="at"> @${row.offset}, ${row.size} byte${row.size === 1 ? '' : 's'}</span>` +
      `${flag ? `<span class="flag flag-inline"> ${flag}</span>` : ''}</td>` +
      `<td class="value">${escapeHtml(row.value)}</td><td><code class="hex">${escapeHtml(bytesCell(row.hex))}</code></td>` +
      `<td class="col-problems">${flag ? `<span class="flag">${flag}</span>` : ''}</td></tr>`;
  }).join('');
}

function renderProblems(problems: readonly PeerTargetNameError[], emptyText: string, haveBytes: boolean): void {
  out.problems.innerHTML = problems.length === 0
    ? haveBytes ? `<li class="none">${escapeHtml(emptyText)}</li>` : '<li class="idle">Nothing to check yet.</li>'
    : problems.map((p, i) => {
      const where = p.offset === undefined ? (state.mode === 'build' ? 'in the input' : 'no particular bytes')
        : p.length === undefined || p.length <= 1 ? `byte ${p.offset}` : `bytes ${p.offset}–${p.offset + p.length - 1}`;
      return `<li><button type="button" class="problem" data-p="${i}"` +
        `${p.offset !== undefined ? ` data-offset="${p.offset}" data-length="${p.length ?? 1}"` : ''}>` +
        `<span class="code">${p.code}</span> (<span class="errno">${p.errno}</span>) ` +
        `<code class="field">${escapeHtml(p.field)}</code> <span class="where">(${where})</span></button> ` +
        `<span class="msg">${escapeHtml(errorText(p))}</span></li>`;
    }).join('');
}

/** "a, b and c" */
const listWords = (items: readonly string[]) => items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

function mismatchNote(m: UnitMismatch, report: InspectedPeerTargetName): string {
  const why = state.unit === 'auto' ? `auto with ${protocolWords(report.value.protocol)}` : `forced to ${state.unit}`;
  const problems = listWords(report.problems.map((p) => `${p.code} on ${p.field}`));
  return `<li class="note unit-mismatch" id="unit-mismatch"><strong>Unit mismatch:</strong> PeerTargetNameStringLen is ` +
    `${m.stored}. Read in ${unitWords(m.readAs)} (${why}) the buffer breaks the rules (${escapeHtml(problems)}); read in ` +
    `${unitWords(m.writtenIn)} the name is ${escapeHtml(JSON.stringify(m.name))} and every rule holds. The writer counted ` +
    `${unitWords(m.writtenIn)}. Fix: read it in ${m.writtenIn}, or rewrite the field as ${m.fixed} (${unitWords(m.readAs)}) ` +
    `so that readers with this policy agree.` +
    `<span class="note-actions"><button type="button" data-act="read-other">Read it in ${m.writtenIn}</button> ` +
    `<button type="button" data-act="rewrite-length">Rewrite it as ${m.fixed}</button></span></li>`;
}

function render(): void {
  clearErrors();
  selected = null;
  hovered = null;
  const options: CodecOptions = optionsFromState(state);
  let bytes: Uint8Array | null = null;
  let report: InspectedPeerTargetName | null = null;
  let status = '';
  let statusKind = 'ok';
  const notes: string[] = [];
  let mismatch: UnitMismatch | undefined;
  out.pasteFormat.textContent = '';

  if (state.mode === 'build') {
    const { bytes: encoded, errors } = encodeAll(state, encodePeerTargetName, isCodecError);
    for (const { slot, error } of errors) showError(slot, error);
    if (encoded) {
      bytes = encoded;
      report = inspectPeerTargetName(bytes, options);
      status = `${bytes.length} bytes, valid. Pass ${bytes.length} as PeerTargetNameLen.`;
    } else {
      const names = errors.map(({ error: e }) => `${e.code} (${e.errno}) on ${e.field}`);
      status = errors.length === 1 ? `No buffer: ${names[0]}. The field's message says why.`
        : `No buffer: ${errors.length} problems: ${listWords(names)}. Each field's message says why.`;
      statusKind = 'bad';
    }
    renderProblems(report?.problems ?? errors.map((e) => e.error), 'None: the codec produced a valid struct.', bytes !== null);
  } else {
    // A dump keeps its columns (no wrapping); one long line of hex or base64 wraps to be seen whole.
    hexInput.wrap = state.hex.split(/\r?\n/).length <= 2 && state.hex.length > 100 ? 'soft' : 'off';
    if (state.hex.trim() === '') {
      status = 'Paste a buffer or open a file to inspect it.';
      statusKind = 'idle';
    } else {
      const paste = readPaste(state.hex);
      if (paste.ok) {
        bytes = paste.bytes;
        out.pasteFormat.textContent = `Read as ${formatPhrase(paste.format)} (${paste.detail}): ${bytes.length} byte${bytes.length === 1 ? '' : 's'}.`;
      } else {
        showError('hex', paste.error, pasteErrorHtml(paste));
        out.pasteFormat.textContent = `Looks like ${formatPhrase(paste.format)}, but cannot be read (see below).`;
        status = paste.at ? `Not read: ${formatPhrase(paste.format)} with an error at line ${paste.at.line}, column ${paste.at.column} (see under the box).`
          : 'Not read (see under the box).';
        statusKind = 'bad';
      }
    }
    if (bytes) {
      report = presentFields(bytes, inspectPeerTargetName(bytes, options), inspectPeerTargetName, options);
      mismatch = unitMismatch(bytes, report, inspectPeerTargetName, options);
      const n = report.problems.length;
      status = n === 0
        ? `${bytes.length} bytes, valid: every field is as the headers lay it out.`
        : `${bytes.length} bytes, ${n} problem${n === 1 ? '' : 's'}: ${report.problems.map((p) => `${p.code} on ${p.field}`).join(', ')}` +
          `${mismatch ? `, all from a length counted in ${unitWords(mismatch.writtenIn)} but read in ${unitWords(mismatch.readAs)}` : ''}.`;
      statusKind = n === 0 ? 'ok' : 'bad';
      if (mismatch) notes.push(mismatchNote(mismatch, report));
      else {
        const note = lengthNote(bytes, report);
        if (note) notes.push(`<li class="note length" id="length-note"><strong>Length:</strong> ${escapeHtml(note)}</li>`);
      }
      if (bytes.length > MAX_DUMP_BYTES) notes.push(`<li class="note">The dump shows the first ${MAX_DUMP_BYTES} of ${bytes.length} bytes.</li>`);
      if (escapeComponent(state.hex).length > MAX_LINK_TEXT) {
        notes.push('<li class="note">The link holds these bytes as base64: the pasted text is too long to keep in a link as it is.</li>');
      }
    }
    renderProblems(report?.problems ?? [], 'None: the validator accepts this buffer.', bytes !== null);
  }

  out.status.textContent = status;
  out.status.dataset.kind = statusKind;
  out.notes.innerHTML = notes.join('');
  out.notes.hidden = notes.length === 0;
  out.unitNow.textContent = unitSentence(report);

  view = { bytes, report, summary: report ? summaryOf(report) : '', mismatch };
  // No bytes, no table: a sentence instead of an empty frame.
  const noFields = !bytes || bytes.length === 0;
  fieldsTable.hidden = noFields;
  byId('fields-empty').hidden = !noFields;
  renderFields(noFields ? [] : report?.fields ?? []);
  drawDump();
  out.hexLine.textContent = bytes ? toHex(bytes) : '';
  out.cInit.textContent = bytes && bytes.length > 0 && report ? cInitialiser(bytes, report.fields, view.summary) : '';
  out.copyHex.disabled = !bytes || bytes.length === 0;
  out.copyC.disabled = !bytes || bytes.length === 0;
  out.toInspect.disabled = !bytes;
  out.toForm.disabled = !report || !formFromDecoded(report.value, state);
  showByteStatus(null);
  updateUrl(bytes);
}

/** Draws the dump from the current view (again after a fold opens or the width changes). */
function drawDump(): void {
  const { bytes, report } = view;
  if (!bytes || bytes.length === 0) {
    // Say why the dump and the table are empty rather than show empty frames.
    dump.empty(state.mode === 'build' ? 'No bytes: the codec refused the input (see the message by each field).'
      : bytes ? 'An empty buffer: no bytes to show.' : 'No bytes yet: paste a buffer or open a file.');
    return;
  }
  const shown = bytes.length > MAX_DUMP_BYTES ? bytes.subarray(0, MAX_DUMP_BYTES) : bytes;
  const ranges: ByteRange[] = (report?.problems ?? [])
    .filter((p) => p.offset !== undefined)
    .map((p) => ({ offset: p.offset as number, length: p.length ?? 1 }));
  dump.render(shown, report?.fields ?? [], ranges, { perRow: narrow.matches ? 8 : 16, open: openFolds });
  if (selected !== null) dump.light('sel', rowRange(selected));
}

/** The link always reproduces the page: both modes' fields, the pasted text exactly as typed. */
function updateUrl(bytes: Uint8Array | null): void {
  let linked = state;
  if (escapeComponent(state.hex).length > MAX_LINK_TEXT && bytes && state.mode === 'inspect') {
    // As a data: URL, which the paste box reads as base64 whatever the bytes (all zeros included).
    linked = { ...state, hex: `data:application/octet-stream;base64,${base64(bytes)}` };
  }
  const hash = serializeState(linked);
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

function base64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// ---- Linking bytes, rows and the status line --------------------------------------------------

let selected: number | null = null;
let hovered: string | null = null;

function rowRange(f: number): ByteRange | null {
  const row = view.report?.fields[f];
  return row ? { offset: row.offset, length: row.size } : null;
}

const rowEl = (f: number) => out.tbody.querySelector<HTMLTableRowElement>(`tr[data-f="${f}"]`);

function markRow(cls: string, f: number | null): void {
  for (const tr of out.tbody.querySelectorAll(`tr.${cls}`)) tr.classList.remove(cls);
  if (f !== null && f >= 0) rowEl(f)?.classList.add(cls);
}

function fieldWords(f: number): string {
  const row = view.report?.fields[f];
  if (!row) return '';
  return `${row.field}: offset ${row.offset}, size ${row.size}, ${row.value}` +
    (row.kind === 'string' ? ' · point at a byte for its character' : '');
}

/** The line under the dump: what is hovered, else what is selected, else how to use it. */
function showByteStatus(text: string | null): void {
  hovered = text;
  const shown = text ?? (selected !== null && selected >= 0 ? fieldWords(selected) : null);
  out.byteStatus.textContent = shown ?? (view.bytes && view.bytes.length > 0
    ? 'Offsets are decimal. Hover over a byte or a row of the table: its field, offset, size and value show here.' : '');
  out.byteStatus.classList.toggle('live', shown !== null);
}

function hover(f: number | null, range?: ByteRange | null): void {
  dump.light('hv', range !== undefined ? range : f !== null && f >= 0 ? rowRange(f) : null);
  markRow('hv', f);
}

function select(f: number | null, range?: ByteRange): void {
  selected = f;
  const r = range ?? (f !== null && f >= 0 ? rowRange(f) : null);
  dump.light('sel', r);
  dump.reveal(r);
  markRow('sel', f);
  if (f !== null && f >= 0) setTabRow(f);
  showByteStatus(hovered);
}

/** The table is one tab stop: the row that has it is the selected one. */
function setTabRow(f: number): void {
  tabRow = f;
  for (const tr of out.tbody.querySelectorAll<HTMLElement>('tr[data-f]')) tr.tabIndex = Number(tr.dataset.f) === f ? 0 : -1;
}

/** Brings a table row into view below the sticky dump, scrolling the page as little as possible. */
function revealRow(f: number): void {
  const tr = rowEl(f);
  if (!tr) return;
  const r = tr.getBoundingClientRect();
  const paneBottom = getComputedStyle(out.pane).position === 'sticky' ? out.pane.getBoundingClientRect().height : 0;
  if (r.bottom > window.innerHeight) window.scrollBy(0, r.bottom - window.innerHeight + 12);
  else if (r.top < paneBottom) window.scrollBy(0, r.top - paneBottom - 12);
}

const byteOfEvent = (e: Event): number | null => {
  const target = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
  return target ? Number(target.dataset.i) : null;
};
const foldOfEvent = (e: Event): HTMLElement | null => (e.target as HTMLElement).closest<HTMLElement>('.hd-fold');
const rowOfEvent = (e: Event): number | null => {
  const tr = (e.target as HTMLElement).closest<HTMLElement>('tr[data-f]');
  return tr ? Number(tr.dataset.f) : null;
};

hexdumpEl.addEventListener('mouseover', (e) => {
  const i = byteOfEvent(e);
  const fold = foldOfEvent(e);
  if (i !== null && view.bytes && view.report) {
    const f = dump.fieldAt(i);
    hover(f);
    showByteStatus(describeByte(view.bytes, view.report.fields, f, i));
  } else if (fold) {
    const from = Number(fold.dataset.from);
    const to = Number(fold.dataset.to);
    hover(null, { offset: from, length: to - from });
    const names = dump.fieldsIn(from, to).map((f) => view.report?.fields[f].field ?? '').join(', ');
    showByteStatus(`bytes ${from}–${to - 1}: ${to - from} zero bytes of ${names || 'no field'}${fold.classList.contains('open') ? '' : ', folded: click to show them'}`);
  }
});
hexdumpEl.addEventListener('mouseleave', () => {
  hover(null);
  showByteStatus(null);
});
hexdumpEl.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLElement>('button[data-fold]');
  if (button) {
    const from = Number(button.dataset.fold);
    if (openFolds.has(from)) openFolds.delete(from);
    else openFolds.add(from);
    drawDump();
    hexdumpEl.querySelector<HTMLElement>(`button[data-fold="${from}"]`)?.focus();
    return;
  }
  const i = byteOfEvent(e);
  if (i === null) return;
  const f = dump.fieldAt(i);
  if (f === selected) {
    select(null);
  } else {
    select(f);
    if (f >= 0) revealRow(f);
  }
});
out.tbody.addEventListener('mouseover', (e) => {
  const f = rowOfEvent(e);
  hover(f);
  if (f !== null) {
    dump.reveal(rowRange(f));
    showByteStatus(fieldWords(f));
  }
});
out.tbody.addEventListener('mouseleave', () => {
  hover(null);
  showByteStatus(null);
});
// Keyboard: the table is one tab stop; focusing a row selects its bytes.
out.tbody.addEventListener('focusin', (e) => {
  const f = rowOfEvent(e);
  if (f !== null && f !== selected) select(f);
});
out.tbody.addEventListener('click', (e) => select(rowOfEvent(e)));
// Arrow keys (and Home, End) walk the rows, and so the fields' bytes.
out.tbody.addEventListener('keydown', (e) => {
  const rows = Array.from(out.tbody.querySelectorAll<HTMLElement>('tr[data-f]'));
  const tr = (e.target as HTMLElement).closest('tr');
  const at = rows.indexOf(tr as HTMLElement);
  if (at < 0) return;
  const to = e.key === 'ArrowDown' ? at + 1 : e.key === 'ArrowUp' ? at - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : -2;
  if (to === -2) return;
  e.preventDefault();
  const next = rows[Math.max(0, Math.min(rows.length - 1, to))];
  next.focus();
});
out.problems.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLElement>('button[data-offset]');
  if (!button) return;
  const range = { offset: Number(button.dataset.offset), length: Number(button.dataset.length) };
  select(dump.fieldAt(range.offset), range);
});
narrow.addEventListener('change', () => drawDump());

// ---- Input events -----------------------------------------------------------------------------

/** Spreads `[fe80::1%7]:5000` typed or pasted into the address box over address, port and zone. */
function splitAddressBox(): void {
  const split = splitAddress(controls.address.value);
  if (!split) return;
  const before = controls.address.value.trim();
  state = withSplitAddress({ ...state, address: controls.address.value });
  controls.address.value = state.address;
  controls.port.value = state.port;
  controls.zone.value = state.zone;
  const parts = [`address ${split.address}`, ...(split.port !== undefined ? [`port ${split.port}`] : []), ...(split.zone !== undefined ? [`zone ${split.zone}`] : [])];
  out.copyStatus.textContent = `Split ${before} into ${listWords(parts)}.`;
  render();
}

function onEdit(e: Event): void {
  const before = JSON.stringify(state);
  readControls();
  showLinkProblems([]); // the page no longer shows the link as it was
  if (e.target === controls.address && (e.type === 'change' || /^insertFrom(Paste|Drop)$/.test((e as InputEvent).inputType ?? ''))) {
    splitAddressBox();
    return;
  }
  // 'change' follows 'input' when a control loses focus; re-rendering then would replace the
  // element being clicked (and drop the selection) for nothing.
  if (JSON.stringify(state) !== before) render();
}
for (const el of [...Object.values(controls), hexInput]) {
  el.addEventListener('input', onEdit);
  el.addEventListener('change', onEdit);
}
controls.address.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') splitAddressBox();
});
for (const radio of Object.values(modeRadios)) {
  radio.addEventListener('change', () => {
    state = { ...state, mode: radio.value as Mode };
    showMode(state.mode);
    render();
  });
}
document.getElementById('build-form')?.addEventListener('submit', (e) => e.preventDefault());

window.addEventListener('hashchange', () => {
  const report = readHash(location.hash);
  state = report.state;
  showLinkProblems(report.problems);
  writeControls();
  render();
});

out.toInspect.addEventListener('click', () => {
  if (!view.bytes) return;
  state = { ...state, mode: 'inspect', hex: toHex(view.bytes) };
  writeControls();
  render();
  hexInput.focus();
});

out.toForm.addEventListener('click', () => {
  const inspected = view.bytes;
  const form = view.report ? formFromDecoded(view.report.value, state) : undefined;
  if (!inspected || !form) return;
  state = form;
  writeControls();
  render();
  // Say whether the form rebuilds the very bytes (it cannot hold non-zero padding or a stray tail).
  const rebuilt = view.bytes;
  if (!rebuilt) {
    out.copyStatus.textContent = 'Moved to the form; the codec refuses these fields (see the messages).';
  } else if (toHex(rebuilt) === toHex(inspected)) {
    out.copyStatus.textContent = `Moved to the form: it rebuilds the same ${rebuilt.length} bytes.`;
  } else {
    let differ = 0;
    for (let i = 0; i < Math.max(rebuilt.length, inspected.length); i++) if (rebuilt[i] !== inspected[i]) differ++;
    out.copyStatus.textContent = `Moved to the form: it rebuilds ${rebuilt.length} bytes, which differ from the ` +
      `${inspected.length} inspected in ${differ} byte${differ === 1 ? '' : 's'} (what the form cannot express: ` +
      'non-zero padding, a stray tail, a length in the other unit).';
  }
  controls.name.focus();
});

out.notes.addEventListener('click', (e) => {
  const act = (e.target as HTMLElement).closest<HTMLElement>('button[data-act]')?.dataset.act;
  const m = view.mismatch;
  if (!act || !m) return;
  if (act === 'read-other') {
    state = { ...state, unit: m.writtenIn };
    out.copyStatus.textContent = `Reading PeerTargetNameStringLen in ${unitWords(m.writtenIn)}.`;
  } else if (act === 'rewrite-length') {
    state = { ...state, hex: toHex(m.fixedBytes) };
    out.copyStatus.textContent = `PeerTargetNameStringLen rewritten from ${m.stored} to ${m.fixed} (${unitWords(m.readAs)}).`;
  }
  writeControls();
  render();
});

byId('hex-input-error').addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLElement>('button.select-error');
  if (!button) return;
  hexInput.focus();
  hexInput.setSelectionRange(Number(button.dataset.from), Number(button.dataset.to));
});

// ---- Files ------------------------------------------------------------------------------------

/** Text (UTF-8 with no control characters but tabs and line breaks) is read as a paste; anything else as the bytes. */
function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.some((b) => (b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const asText = textOf(bytes);
  const text = asText ?? (toHex(bytes).match(/.{1,32}/g) ?? []).map((l) => l.replace(/(..)(?!$)/g, '$1 ')).join('\n');
  state = { ...state, mode: 'inspect', hex: text };
  writeControls();
  render();
  out.copyStatus.textContent = `Read ${file.name} (${bytes.length} bytes${asText !== undefined ? ' of text' : ''}).`;
}

const fileInput = byId<HTMLInputElement>('file-input');
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) void loadFile(file);
});
const dropZone = byId('inspect-form');
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (e) => {
  const file = e.dataTransfer?.files[0];
  dropZone.classList.remove('dragging');
  if (!file) return; // dropped text goes into the textarea as usual
  e.preventDefault();
  void loadFile(file);
});

// ---- Copy buttons -----------------------------------------------------------------------------

async function copy(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No Clipboard API (e.g. a page opened from file:// in some browsers): the old way.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    if (!ok) {
      out.copyStatus.textContent = `Could not copy ${what}: select it below and copy by hand.`;
      return;
    }
  }
  out.copyStatus.textContent = `Copied ${what}.`;
}

out.copyHex.addEventListener('click', () => void copy(out.hexLine.textContent ?? '', 'the hex'));
out.copyC.addEventListener('click', () => void copy(out.cInit.textContent ?? '', 'the C initialiser'));
byId('copy-link').addEventListener('click', () => void copy(location.href, 'the link'));

// ---- Start ------------------------------------------------------------------------------------

writeControls();
render();
showLinkProblems(initial.problems);
// The e2e test reads this mark for the first-render budget (time since navigation start).
performance.mark('ptn:first-render');
document.documentElement.dataset.ready = 'true';
