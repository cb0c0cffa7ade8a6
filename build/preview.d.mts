// Types for preview.mjs (plain JavaScript so it runs as a script on Node 20).
import type { Metafile } from 'esbuild';

export const ROOT: string;
/** host/preview/ */
export const SOURCE_DIR: string;
/** build/preview/ */
export const OUT_DIR: string;
/** host/preview/page.ts */
export const ENTRY: string;
/** 60 KB: the page's JS + WASM + HTML + CSS, gzipped. */
export const BUDGET_GZIP_BYTES: number;
export const DEFAULT_PORT: number;

/** Why a bundle is not browser-only (Node built-ins, koffi, Node-only modules, external imports); empty when clean. */
export function bundleViolations(metafile: Metafile): string[];

/** Bundles one entry for the browser, nothing written. */
export function bundleForBrowser(entry?: string): Promise<{ js: string; metafile: Metafile }>;

export interface PreviewSize {
  html: number;
  js: number;
  css: number;
  /** The whole page (HTML with the inline JS, WASM and CSS), gzipped at level 9. */
  gzip: number;
  jsGzip: number;
}

export interface BuiltPreview {
  html: string;
  csp: string;
  size: PreviewSize;
  /** The bundle's inputs, relative to the package root. */
  inputs: string[];
  metafile: Metafile;
  outdir: string | null;
}

/** Builds the page (to `outdir`, default build/preview/; `null`: in memory). Throws on Node code or over budget. */
export function buildPreview(options?: { outdir?: string | null }): Promise<BuiltPreview>;

/** Re-runs build/layout.mjs and build/wasm.mjs when host/generated/ is missing or older than assembly/. */
export function ensureGenerated(): boolean;

export interface PreviewServer {
  url: string;
  port: number;
  size: PreviewSize;
  close(): Promise<void>;
}

/** Serves the page on host:port (port 0: any free port), rebuilding on reload when a source changed. */
export function startPreviewServer(options?: {
  port?: number;
  host?: string;
  log?: (message: string) => void;
}): Promise<PreviewServer>;
