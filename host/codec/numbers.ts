// One test of a 32-bit unsigned integer for every host file.

/** True for the integers 0 to 2^32 - 1 ((v >>> 0) === v holds exactly for them, and for -0, which Number.isInteger accepts too). */
export const isU32 = (v: unknown): v is number => typeof v === 'number' && (v >>> 0) === v;
