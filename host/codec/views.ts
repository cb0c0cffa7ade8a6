// Binary views read through the language's own getters (%TypedArray%.prototype.length and so on):
// they read the internal slots, so a view with a shadowing own property, a Proxy, or an object that
// only claims a prototype cannot make the host read something other than what native code or the
// codec will see; and a detached buffer is told apart from an empty one.

const getter = (proto: object, key: PropertyKey) => Object.getOwnPropertyDescriptor(proto, key)!.get! as (this: unknown) => unknown;

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const TA_TAG = getter(TypedArrayPrototype, Symbol.toStringTag);
const TA_BUFFER = getter(TypedArrayPrototype, 'buffer');
const TA_OFFSET = getter(TypedArrayPrototype, 'byteOffset');
const TA_BYTES = getter(TypedArrayPrototype, 'byteLength');
const TA_LENGTH = getter(TypedArrayPrototype, 'length');
const DV_BUFFER = getter(DataView.prototype, 'buffer');
const DV_OFFSET = getter(DataView.prototype, 'byteOffset');
const DV_BYTES = getter(DataView.prototype, 'byteLength');
const AB_BYTES = getter(ArrayBuffer.prototype, 'byteLength');
const SAB_BYTES = typeof SharedArrayBuffer === 'function' ? getter(SharedArrayBuffer.prototype, 'byteLength') : undefined;

/** The typed array's kind ('Uint8Array', ...), or undefined for anything that is not a typed array. Never throws. */
export function typedArrayKind(value: unknown): string | undefined {
  return TA_TAG.call(value) as string | undefined;
}

/** A real Uint8Array's element count, from its internal slot (an own `length` property cannot lie). */
export function lengthOf(view: Uint8Array): number {
  return TA_LENGTH.call(view) as number;
}

/** A real typed array's buffer, from its internal slot. */
export function bufferOf(view: ArrayBufferView): ArrayBufferLike {
  return (typedArrayKind(view) !== undefined ? TA_BUFFER.call(view) : DV_BUFFER.call(view)) as ArrayBufferLike;
}

/**
 * False for what cannot be a buffer, without an exception (the brand checks below throw for
 * anything else, and an exception costs microseconds: the bridge asks this of every input object).
 * A plain object, an array or a null-prototype object is never one.
 */
function mayBeBuffer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const proto = Object.getPrototypeOf(value) as unknown;
    return proto !== Object.prototype && proto !== null && proto !== Array.prototype;
  } catch {
    return false; // a revoked Proxy
  }
}

/** True for a real ArrayBuffer (live or detached); never throws. */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  if (!mayBeBuffer(value)) return false;
  try {
    AB_BYTES.call(value);
    return true;
  } catch {
    return false;
  }
}

/** True for a real SharedArrayBuffer; never throws. */
export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (SAB_BYTES === undefined || !mayBeBuffer(value)) return false;
  try {
    SAB_BYTES.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * True if the buffer is detached (transferred, or a WebAssembly memory that grew). Only an empty
 * buffer can be: a detached one reports byteLength 0 and refuses every new view.
 */
export function isDetached(buffer: ArrayBufferLike): boolean {
  if ((buffer as ArrayBuffer).byteLength !== 0) return false;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** What went wrong when a value could not be viewed as bytes. */
export type ViewFailure = 'detached' | 'not-binary' | 'unreadable';

/**
 * Any binary value as a Uint8Array over the same bytes (no copy): a Uint8Array (or Buffer) as it
 * is, any other typed array or DataView, an ArrayBuffer or SharedArrayBuffer. Returns the reason
 * instead for a detached (or out-of-bounds) view or buffer, and for anything that is not binary.
 * Never throws.
 */
export function viewBytes(value: unknown): Uint8Array | ViewFailure {
  try {
    const kind = typedArrayKind(value);
    if (kind !== undefined) {
      const view = value as ArrayBufferView;
      const empty = TA_LENGTH.call(view) === 0;
      if (kind === 'Uint8Array' && !empty) return view as Uint8Array; // the common case: nothing else to ask
      const buffer = TA_BUFFER.call(view) as ArrayBufferLike;
      if (empty && isDetached(buffer)) return 'detached';
      if (kind === 'Uint8Array') return view as Uint8Array;
      return new Uint8Array(buffer, TA_OFFSET.call(view) as number, TA_BYTES.call(view) as number);
    }
    if (ArrayBuffer.isView(value)) { // a DataView: its offset and length getters throw once detached
      const buffer = DV_BUFFER.call(value) as ArrayBufferLike;
      if (isDetached(buffer)) return 'detached';
      return new Uint8Array(buffer, DV_OFFSET.call(value) as number, DV_BYTES.call(value) as number);
    }
    if (isArrayBuffer(value) || isSharedArrayBuffer(value)) {
      return isDetached(value) ? 'detached' : new Uint8Array(value);
    }
    return 'not-binary';
  } catch {
    // Out of bounds (a resizable buffer that shrank under a fixed view), or some other way of not
    // being readable: never a TypeError to the caller.
    return 'unreadable';
  }
}

/** A real typed array's byte offset, from its internal slot. */
export function offsetOf(view: ArrayBufferView): number {
  return (typedArrayKind(view) !== undefined ? TA_OFFSET.call(view) : DV_OFFSET.call(view)) as number;
}
