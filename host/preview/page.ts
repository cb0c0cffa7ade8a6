// The preview page: wires the form, the paste box and the output to the codec's public API (the
// same module Node uses, bundled for the browser). Rendering is synchronous on every keystroke:
// encoding one struct costs microseconds, so there is nothing to debounce.
import {
  encodePeerTargetName,
  fromHex,
  inspectPeerTargetName,
  toHex,
  PeerTargetNameError,
  type DecodedPeer,
  type FieldRow,
  type InspectedPeerTargetName,
} from '../index.js';
import { cInitialiser } from './cinit.js';
import { controlFor, errorText, inputFromState, optionsFromState, type ControlId } from './form.js';
import { HexDump, escapeHtml, fieldClasses, type ByteRange } from './hexdump.js';
import { parseState, serializeState, type Mode, type PageState } from './state.js';

// Module bodies run after their imports: by here the codec's WebAssembly is compiled.
performance.mark('ptn:codec-ready');

/** More bytes than any struct needs is someone's whole file: show the start, say so. */
const MAX_DUMP_BYTES = 4096;

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
  unitNow: byId('unit-now'),
  tbody: byId('fields').querySelector('tbody') as HTMLTableSectionElement,
  problems: byId('problems'),
  hexLine: byId('hex-line'),
  cInit: byId('c-init'),
  copyStatus: byId('copy-status'),
  copyHex: byId<HTMLButtonElement>('copy-hex'),
  copyC: byId<HTMLButtonElement>('copy-c'),
  toInspect: byId<HTMLButtonElement>('to-inspect'),
};
const dump = new HexDump(byId('hexdump'));

let state: PageState = parseState(location.hash);

/** What the last render produced: the copy buttons and the highlighting work from it. */
interface View {
  bytes: Uint8Array | null;
  report: InspectedPeerTargetName | null;
  summary: string;
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

// ---- Inline errors ----------------------------------------------------------------------------

const ERROR_SLOTS: Record<ControlId | 'hex' | 'build', string> = {
  protocol: 'protocol-error', address: 'address-error', port: 'port-error', zone: 'zone-error',
  flow: 'flow-error', name: 'name-error', unit: 'unit-now', socket: 'socket-error',
  hex: 'hex-input-error', build: 'build-error',
};

function clearErrors(): void {
  for (const [slot, id] of Object.entries(ERROR_SLOTS)) {
    if (slot === 'unit') continue; // shares its line with the unit explanation
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

function showError(slot: ControlId | 'hex' | 'build', error: PeerTargetNameError): void {
  const el = byId(ERROR_SLOTS[slot === 'unit' ? 'build' : slot]);
  el.innerHTML = errorHtml(error);
  el.hidden = false;
  const control = slot === 'hex' ? hexInput : slot === 'build' ? undefined : controls[slot];
  control?.setAttribute('aria-invalid', 'true');
}

// ---- Rendering --------------------------------------------------------------------------------

const isCodecError = (e: unknown): e is PeerTargetNameError =>
  e instanceof PeerTargetNameError || (e instanceof Error && e.name === 'PeerTargetNameError');

/** Hex as people paste it, C initialisers included (comments and the declaration are dropped). */
function bytesFromText(text: string): Uint8Array {
  let t = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const open = t.indexOf('{');
  if (open >= 0) {
    t = t.slice(open + 1);
    const close = t.lastIndexOf('}');
    if (close >= 0) t = t.slice(0, close);
  }
  return fromHex(t.replace(/;\s*$/, ''));
}

function peerText(peer: DecodedPeer | null | undefined): string {
  if (peer === undefined) return 'peer unknown (buffer too short)';
  if (peer === null) return 'no peer (PeerAddress all zero)';
  if (peer.family === 'ipv4') return `peer ${peer.address}:${peer.port}`;
  const zone = peer.scopeId !== 0 ? `%${peer.scopeId}` : '';
  const flow = peer.flowInfo !== 0 ? `, flowinfo ${peer.flowInfo}` : '';
  return `peer [${peer.address}${zone}]:${peer.port}${flow}`;
}

const unitWords = (u: 'units' | 'bytes') => (u === 'units' ? 'UTF-16 units' : 'bytes');

/** The sentence under the length-unit select: what the policy made of this name, in numbers. */
function unitSentence(report: InspectedPeerTargetName | null): string {
  const policy = state.unit;
  const v = report?.value;
  if (!v || v.stringLength === undefined || v.lengthUnit === undefined) {
    return policy === 'auto' ? 'auto: UTF-16 units for default and ipsec, bytes for ipsec2.' : `Forced: ${unitWords(policy)}.`;
  }
  const why = policy === 'auto' ? `auto with ${typeof v.protocol === 'string' ? v.protocol : `protocol ${String(v.protocol)}`}` : `forced to ${policy}`;
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

/** Long zero runs read better counted, as the CLI's table shows them. */
const bytesCell = (hex: string) => (hex.length > 32 && /^0+$/.test(hex) ? `00 × ${hex.length / 2}` : hex.length > 48 ? hex.slice(0, 48) + '…' : hex);

function renderFields(fields: readonly FieldRow[]): void {
  out.tbody.innerHTML = fields.map((row, f) => {
    const problems = row.problems.length > 0
      ? `<span class="flag">⚠ ${row.problems.map(escapeHtml).join(', ')}</span>` : '';
    return `<tr tabindex="0" data-f="${f}" class="row-${row.kind}${row.problems.length ? ' has-problem' : ''}">` +
      `<td><span class="sw ${fieldClasses(row, f)}">${f + 1}</span></td>` +
      `<td class="num">${row.offset}</td><td class="num">${row.size}</td>` +
      `<td><code>${escapeHtml(row.field)}</code>${row.kind !== 'field' ? ` <span class="kind">${row.kind}</span>` : ''}</td>` +
      `<td>${escapeHtml(row.value)}</td><td><code class="hex">${escapeHtml(bytesCell(row.hex))}</code></td>` +
      `<td>${problems}</td></tr>`;
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

function render(): void {
  clearErrors();
  const options = optionsFromState(state);
  let bytes: Uint8Array | null = null;
  let report: InspectedPeerTargetName | null = null;
  let status = '';
  let statusKind = 'ok';
  let encodeErrors: PeerTargetNameError[] = [];

  if (state.mode === 'build') {
    try {
      bytes = encodePeerTargetName(inputFromState(state), options);
    } catch (e) {
      if (!isCodecError(e)) throw e;
      const slot = controlFor(e) ?? 'build';
      showError(slot, e);
      encodeErrors = [e];
      status = `No buffer: ${e.code} (${e.errno}) on ${e.field}. The field's message says why.`;
      statusKind = 'bad';
    }
    if (bytes) {
      report = inspectPeerTargetName(bytes, options);
      status = `${bytes.length} bytes, valid. Pass ${bytes.length} as PeerTargetNameLen.`;
    }
    renderProblems(report?.problems ?? encodeErrors, 'None: the codec produced a valid struct.', bytes !== null);
  } else {
    const text = state.hex.trim();
    if (text === '') {
      status = 'Paste hex or open a file to inspect it.';
      statusKind = 'idle';
    } else {
      try {
        bytes = bytesFromText(text);
      } catch (e) {
        if (!isCodecError(e)) throw e;
        showError('hex', e);
        status = 'That is not hex yet (see the message under the box).';
        statusKind = 'bad';
      }
    }
    if (bytes) {
      report = inspectPeerTargetName(bytes, options);
      const n = report.problems.length;
      status = n === 0
        ? `${bytes.length} bytes, valid: every field is as the headers lay it out.`
        : `${bytes.length} bytes, ${n} problem${n === 1 ? '' : 's'}: ${report.problems.map((p) => `${p.code} on ${p.field}`).join(', ')}.`;
      statusKind = n === 0 ? 'ok' : 'bad';
    }
    renderProblems(report?.problems ?? [], 'None: the validator accepts this buffer.', bytes !== null);
  }

  out.status.textContent = status;
  out.status.dataset.kind = statusKind;
  out.unitNow.textContent = unitSentence(report);
  const shown = bytes && bytes.length > MAX_DUMP_BYTES ? bytes.subarray(0, MAX_DUMP_BYTES) : bytes;
  const fields = report?.fields ?? [];
  const ranges: ByteRange[] = (report?.problems ?? [])
    .filter((p) => p.offset !== undefined)
    .map((p) => ({ offset: p.offset as number, length: p.length ?? 1 }));
  dump.render(shown ?? new Uint8Array(0), fields, ranges);
  if (bytes && shown !== bytes) out.status.textContent += ` (the dump shows the first ${MAX_DUMP_BYTES} bytes)`;
  renderFields(fields);
  if (!bytes || bytes.length === 0) {
    // Say why the dump and the table are empty rather than show empty frames.
    const why = state.mode === 'build' ? 'No bytes: the codec refused the input (see the message by the field).'
      : bytes ? 'An empty buffer: no bytes to show.' : 'No bytes yet: paste hex or open a file.';
    byId('hexdump').innerHTML = `<p class="empty">${escapeHtml(why)}</p>`;
    out.tbody.innerHTML = '<tr><td colspan="7" class="empty">No fields.</td></tr>';
  }

  view = { bytes, report, summary: report ? summaryOf(report) : '' };
  out.hexLine.textContent = bytes ? toHex(bytes) : '';
  out.cInit.textContent = bytes && bytes.length > 0 && report ? cInitialiser(bytes, report.fields, view.summary) : '';
  out.copyHex.disabled = !bytes || bytes.length === 0;
  out.copyC.disabled = !bytes || bytes.length === 0;
  out.toInspect.disabled = !bytes;
  selected = null;
  updateUrl(bytes);
}

/** The link always reproduces the page: in Inspect mode, with the bytes as compact hex when they parse. */
function updateUrl(bytes: Uint8Array | null): void {
  const hash = serializeState(state.mode === 'inspect' && bytes ? { ...state, hex: toHex(bytes) } : state);
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

// ---- Linking bytes and rows -------------------------------------------------------------------

let selected: number | null = null;

function rowRange(f: number): ByteRange | null {
  const row = view.report?.fields[f];
  return row ? { offset: row.offset, length: row.size } : null;
}

function markRow(cls: string, f: number | null): void {
  for (const tr of out.tbody.querySelectorAll(`tr.${cls}`)) tr.classList.remove(cls);
  if (f !== null && f >= 0) out.tbody.querySelector(`tr[data-f="${f}"]`)?.classList.add(cls);
}

function hover(f: number | null): void {
  dump.light('hv', f !== null && f >= 0 ? rowRange(f) : null);
  markRow('hv', f);
}

function select(f: number | null, range?: ByteRange): void {
  selected = f;
  dump.light('sel', range ?? (f !== null && f >= 0 ? rowRange(f) : null));
  markRow('sel', f);
}

const fieldOfEvent = (e: Event): number | null => {
  const target = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
  return target ? dump.fieldAt(Number(target.dataset.i)) : null;
};
const rowOfEvent = (e: Event): number | null => {
  const tr = (e.target as HTMLElement).closest<HTMLElement>('tr[data-f]');
  return tr ? Number(tr.dataset.f) : null;
};

const hexdumpEl = byId('hexdump');
hexdumpEl.addEventListener('mouseover', (e) => hover(fieldOfEvent(e)));
hexdumpEl.addEventListener('mouseleave', () => hover(null));
hexdumpEl.addEventListener('click', (e) => {
  const f = fieldOfEvent(e);
  if (f !== null) select(f === selected ? null : f);
});
out.tbody.addEventListener('mouseover', (e) => hover(rowOfEvent(e)));
out.tbody.addEventListener('mouseleave', () => hover(null));
// Keyboard: rows are in the tab order; focusing one selects its bytes.
out.tbody.addEventListener('focusin', (e) => select(rowOfEvent(e)));
out.tbody.addEventListener('click', (e) => select(rowOfEvent(e)));
// Arrow keys walk the rows (and so the fields' bytes) without tabbing through each one.
out.tbody.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const tr = (e.target as HTMLElement).closest('tr');
  const next = e.key === 'ArrowDown' ? tr?.nextElementSibling : tr?.previousElementSibling;
  if (next instanceof HTMLElement && next.tabIndex >= 0) {
    e.preventDefault();
    next.focus();
  }
});
out.problems.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLElement>('button[data-offset]');
  if (!button) return;
  const range = { offset: Number(button.dataset.offset), length: Number(button.dataset.length) };
  select(dump.fieldAt(range.offset), range);
});

// ---- Input events -----------------------------------------------------------------------------

function onEdit(): void {
  const before = JSON.stringify(state);
  readControls();
  // 'change' follows 'input' when a control loses focus; re-rendering then would replace the
  // element being clicked (and drop the selection) for nothing.
  if (JSON.stringify(state) !== before) render();
}
for (const el of [...Object.values(controls), hexInput]) {
  el.addEventListener('input', onEdit);
  el.addEventListener('change', onEdit);
}
for (const radio of Object.values(modeRadios)) {
  radio.addEventListener('change', () => {
    state = { ...state, mode: radio.value as Mode };
    showMode(state.mode);
    render();
  });
}
document.getElementById('build-form')?.addEventListener('submit', (e) => e.preventDefault());

window.addEventListener('hashchange', () => {
  state = parseState(location.hash);
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

// ---- Files ------------------------------------------------------------------------------------

/** A file of hex text is read as text; anything else (any struct: it holds zero bytes) as binary. */
async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isText = bytes.length > 0 && bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b < 0x7f));
  const text = isText ? new TextDecoder().decode(bytes) : (toHex(bytes).match(/.{1,32}/g) ?? []).map((l) => l.replace(/(..)(?!$)/g, '$1 ')).join('\n');
  state = { ...state, mode: 'inspect', hex: text };
  writeControls();
  render();
  out.copyStatus.textContent = `Read ${file.name} (${bytes.length} bytes${isText ? ' of hex text' : ''}).`;
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
// The e2e test reads this mark for the first-render budget (time since navigation start).
performance.mark('ptn:first-render');
document.documentElement.dataset.ready = 'true';
