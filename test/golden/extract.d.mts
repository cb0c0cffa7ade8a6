// Types for extract.mjs (plain JavaScript so it runs as a script on Node 20).

export type GoldenVectors = Record<string, string>;

export interface GoldenDocument {
  generatedBy: Record<string, string>;
  cases: GoldenVectors;
}

export const SOURCE: string;
export const VECTORS: string;
export const TARGETS: ReadonlyArray<{ arch: string; prefix: string }>;
export const INSTALL_HINT: string;

/** Tools extraction needs that are not on PATH (empty when it can run). */
export function missingTools(): string[];
export function toolVersions(): Record<string, string>;
/** Compiles golden.c for x64 and x86; `{ [caseName]: hex }` in source order. */
export function extractGoldenVectors(outDir?: string): GoldenVectors;
export function goldenDocument(cases?: GoldenVectors): GoldenDocument;
export function readCommittedVectors(): GoldenDocument;
export function agreeingVectors(first: { arch: string; records: Map<string, Buffer> }, others: { arch: string; records: Map<string, Buffer> }[]): GoldenVectors;
