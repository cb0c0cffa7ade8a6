// Types for security-extract.mjs (plain JavaScript so it runs as a script on Node 20).

export type SecurityVectors = Record<string, string>;

export interface SecurityDocument {
  generatedBy: Record<string, string>;
  cases: SecurityVectors;
}

export const SOURCE: string;
export const VECTORS: string;
export const LAYOUT_DIR: string;
export const INSTALL_HINT: string;

/** Tools extraction needs that are not on PATH (empty when it can run). */
export function missingTools(): string[];
/** Compiles security-golden.c for x64 and x86; `{ [caseName]: hex }` in source order. */
export function extractSecurityVectors(outDir?: string): SecurityVectors;
export function securityDocument(cases?: SecurityVectors): SecurityDocument;
export function readCommittedSecurityVectors(): SecurityDocument;
