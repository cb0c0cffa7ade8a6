// Target names that repeat, kept in the codec's memory: a server often gives many peers the same
// name (one SPN per service), and moving a name in with charCodeAt is a large share of a record's
// cost. A name seen before is handed to the codec where its bytes already are; the codec still
// checks and widens it on every record, so the cache only saves the move, never a check.
//
// It keeps itself out of the way when names do not repeat: after a window of lookups that mostly
// missed, it is not consulted for a while (a counter: 4,096 calls), then tried again; each window
// that misses again doubles the rest (up to MAX_REST), so a stream of names that never repeat soon
// pays for a window of lookups only once in tens of thousands of records.
//
// Only ASCII names up to NAME_CACHE_MAX_UNITS long are kept, as the bytes packBytes() writes (four
// to a 32-bit word, FLAG_NAME_ASCII). The area is NAME_CACHE_BYTES of the codec's memory below the
// work region; when full, it starts afresh (a hostile stream of names stays bounded).

/** Bytes of the codec's memory the cached names take. */
export const NAME_CACHE_BYTES = 64 * 1024;
/** Longer names are not kept (each would take a large share of the area). */
export const NAME_CACHE_MAX_UNITS = 256;
/** Lookups per window, and hits a window needs (one in eight) for the cache to stay consulted. */
const WINDOW = 256;
const WINDOW_HITS = WINDOW / 8;
/** Calls the cache sits out after a window that mostly missed, doubled after each further one. */
const FIRST_REST = 4096;
const MAX_REST = 65536;

/** What find() says when the caller should move the name in itself and not offer it (resting). */
export const NAME_NOT_LOOKED_UP = -2;
/** What find() says when the name is not cached but may be offered with keep(). */
export const NAME_NOT_CACHED = -1;

export class NameCache {
  /** A name → the byte offset of its bytes in the codec's memory. */
  private readonly at = new Map<string, number>();
  /** Words of the area in use. */
  private used = 0;
  private lookups = 0;
  private hits = 0;
  /** Calls left before the cache is consulted again. */
  private resting = 0;
  /** How long the next rest is. */
  private rest = FIRST_REST;

  /** `start`: where the area starts in the codec's memory (4-aligned); `enabled` false: never consulted (the bench's "off" row). */
  constructor(private readonly start: number, private readonly enabled = true) {}

  /**
   * Where the name's bytes are, NAME_NOT_CACHED when it may be kept (pack it at slot(), then keep()),
   * or NAME_NOT_LOOKED_UP.
   */
  find(name: string): number {
    if (!this.enabled || name.length > NAME_CACHE_MAX_UNITS) return NAME_NOT_LOOKED_UP;
    if (this.resting > 0) {
      this.resting--;
      return NAME_NOT_LOOKED_UP;
    }
    const at = this.at.get(name);
    if (at !== undefined) this.hits++;
    if (++this.lookups === WINDOW) {
      if (this.hits < WINDOW_HITS) {
        this.resting = this.rest;
        this.rest = Math.min(MAX_REST, 2 * this.rest);
      } else {
        this.rest = FIRST_REST;
      }
      this.lookups = 0;
      this.hits = 0;
    }
    return at ?? NAME_NOT_CACHED;
  }

  /** The word index where a name of `units` ASCII units is to be packed before keep() (the area starts afresh when full). */
  slot(units: number): number {
    if (this.used + ((units + 3) >>> 2) > NAME_CACHE_BYTES >>> 2) this.clear();
    return (this.start >>> 2) + this.used;
  }

  /** Keeps the name packed at slot(): it was ASCII. */
  keep(name: string, word: number): void {
    // The key is a flat copy: the caller's string may be a slice of a much larger one, which a key
    // would keep alive for as long as the cache holds it (and a sliced key is ~4× slower to compare).
    this.at.set(name.split('').join(''), word << 2);
    this.used += (name.length + 3) >>> 2;
  }

  /** Forgets every name (the area is free again). */
  clear(): void {
    this.at.clear();
    this.used = 0;
  }
}
