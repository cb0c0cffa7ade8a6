// How codec functions report a failure: they return a REASON_* (0 for success) and leave the
// offending value or index here, so the hot paths return one plain i32.

/** The offending value or index of the last failure. */
export let failDetail: u32 = 0;

export function fail(reason: i32, detail: u32): i32 {
  failDetail = detail;
  return reason;
}
