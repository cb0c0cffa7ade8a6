// Builds the browser preview (host/preview/) into one self-contained page, build/preview/index.html:
// script and style inline, the codec's WebAssembly inside the script, and a Content-Security-Policy
// that allows no network at all, so it can be hosted anywhere or opened offline. Checks on every
// build: nothing from Node or koffi in the bundle (from esbuild's metafile), and the size budget.
//
//   node build/preview.mjs                  build to build/preview/
//   node build/preview.mjs --serve [--port N]   build, then serve on 127.0.0.1 (rebuilds on reload)
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE_DIR = join(ROOT, 'host', 'tools', 'preview');
export const OUT_DIR = join(ROOT, 'build', 'preview');
export const ENTRY = join(SOURCE_DIR, 'page.ts');
/** The page's JS + WASM + HTML + CSS, gzipped (the budget). */
export const BUDGET_GZIP_BYTES = 60 * 1024;
export const DEFAULT_PORT = 5178;

// ---- The no-Node-code check -------------------------------------------------------------------

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NODE_BUILTIN = new RegExp(`^(node:|(${builtinModules.map(escapeRegExp).join('|')})(/|$))`);
const KOFFI = /(^|\/)koffi(\/|$)/;
// This package's Node-only modules: the bridge (host/bridge.ts and host/bridge/: koffi, the registry,
// the dgram guard, the sockets) and the tools but the page itself (host/tools/). The page must reach
// the codec (host/codec/) without any of them.
const NODE_ONLY_MODULE = /(^|\/)host\/(bridge\.[cm]?[jt]s$|bridge\/|tools\/(?!preview\/))/;

/**
 * Every reason the bundle described by an esbuild metafile is not browser-only: a Node built-in,
 * koffi, or one of this package's Node-only modules among its inputs, or any import left external
 * (the page loads nothing at run time). Empty when the bundle is clean.
 */
export function bundleViolations(metafile) {
  const violations = [];
  const judge = (path, where) => {
    if (NODE_BUILTIN.test(path)) violations.push(`${where}: ${path} is a Node built-in`);
    else if (KOFFI.test(path)) violations.push(`${where}: ${path} is koffi (native FFI, Node only)`);
    else if (NODE_ONLY_MODULE.test(path)) violations.push(`${where}: ${path} is a Node-only module of this package`);
  };
  for (const [path, input] of Object.entries(metafile.inputs)) {
    judge(path, 'bundled');
    for (const imp of input.imports) {
      if (imp.external) {
        judge(imp.path, `imported by ${path}`);
        violations.push(`imported by ${path}: ${imp.path} is left external, but the page loads nothing at run time`);
      }
    }
  }
  for (const [path, output] of Object.entries(metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.external) violations.push(`${path}: imports ${imp.path} at run time`);
    }
  }
  return [...new Set(violations)];
}

// Node built-ins and koffi are kept out of esbuild's resolver (marked external) rather than failing
// inside it, so that the check above sees them in the metafile and names who imported them.
const quarantine = {
  name: 'quarantine-node',
  setup(build) {
    build.onResolve({ filter: NODE_BUILTIN }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /^koffi(\/|$)/ }, (args) => ({ path: args.path, external: true }));
  },
};

/** Bundles one entry for the browser; returns esbuild's JS text and metafile (nothing written). */
export async function bundleForBrowser(entry = ENTRY) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    // ESM: the codec's loader compiles the WebAssembly with top-level await.
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    outfile: 'preview.js',
    logLevel: 'silent',
    plugins: [quarantine],
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  return { js: js.text, metafile: result.metafile };
}

// ---- The page ---------------------------------------------------------------------------------

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
// String.replace would read `$&` etc. in the bundle as patterns: substitute literally.
const fill = (template, key, value) => template.split(`%${key}%`).join(value);

/**
 * Builds the page. Throws (with every reason) when the bundle holds Node code, when the inline
 * script could end its <script> element early, or when the page is over the budget.
 * `outdir: null` builds in memory only.
 */
export async function buildPreview({ outdir = OUT_DIR } = {}) {
  const { js, metafile } = await bundleForBrowser();
  const violations = bundleViolations(metafile);
  if (violations.length > 0) {
    throw new Error(`preview: the page's bundle must be browser-only, but:\n  ${violations.join('\n  ')}`);
  }
  // Inline, the script's text must not close its element or open an HTML comment.
  if (/<\/script|<!--/i.test(js)) throw new Error('preview: the bundle contains "</script" or "<!--", which cannot be inlined');
  const css = readFileSync(join(SOURCE_DIR, 'style.css'), 'utf8');
  const template = readFileSync(join(SOURCE_DIR, 'index.html'), 'utf8');
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(js)} 'wasm-unsafe-eval'`,
    `style-src ${sha256(css)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  let html = fill(template, 'CSP', csp);
  html = fill(html, 'STYLE', css);
  html = fill(html, 'SCRIPT', js);

  const size = {
    html: Buffer.byteLength(html),
    js: Buffer.byteLength(js),
    css: Buffer.byteLength(css),
    gzip: gzipSync(html, { level: 9 }).length,
    jsGzip: gzipSync(js, { level: 9 }).length,
  };
  if (size.gzip > BUDGET_GZIP_BYTES) {
    throw new Error(`preview: the page is ${size.gzip} bytes gzipped, over the budget of ${BUDGET_GZIP_BYTES}`);
  }
  const inputs = Object.keys(metafile.inputs).sort();
  if (outdir) {
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, 'index.html'), html);
    // What went in, for whoever wonders why the page is the size it is.
    writeFileSync(join(outdir, 'meta.json'), JSON.stringify(metafile, null, 2) + '\n');
  }
  return { html, csp, size, inputs, metafile, outdir };
}

// ---- Generated sources ------------------------------------------------------------------------

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -Infinity);

/**
 * The page imports host/generated/ (layout constants, the embedded .wasm). `npm run build` makes
 * them; for `npm run preview` alone, remake them when missing or older than assembly/.
 */
export function ensureGenerated() {
  const generated = ['layout.ts', 'codec-wasm.ts'].map((f) => join(ROOT, 'host', 'generated', f));
  const sources = [
    ...readdirSync(join(ROOT, 'assembly')).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, 'assembly', f)),
    join(ROOT, 'build', 'layout.mjs'),
    join(ROOT, 'build', 'wasm.mjs'),
  ];
  const oldest = Math.min(...generated.map(mtime));
  if (oldest >= Math.max(...sources.map(mtime))) return false;
  for (const step of ['layout.mjs', 'wasm.mjs']) {
    const r = spawnSync(process.execPath, [join(ROOT, 'build', step)], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`preview: node build/${step} failed (exit ${r.status})`);
  }
  return true;
}

// ---- The server -------------------------------------------------------------------------------

/**
 * Serves the page on `host:port` (port 0: any free port), from memory. A reload rebuilds it when a
 * source it was built from has changed since, so editing host/ and reloading shows the edit.
 * Resolves to `{ url, port, close() }`.
 */
export async function startPreviewServer({ port = DEFAULT_PORT, host = '127.0.0.1', log = () => {} } = {}) {
  let built = await buildPreview({ outdir: null });
  const watched = () => [
    ...built.inputs.filter((p) => !p.startsWith('node_modules/')).map((p) => join(ROOT, p)),
    join(SOURCE_DIR, 'index.html'),
    join(SOURCE_DIR, 'style.css'),
  ];
  let builtAt = Date.now();
  let stamps = new Map(watched().map((p) => [p, mtime(p)]));

  async function currentPage() {
    const changed = [...stamps].some(([p, t]) => mtime(p) !== t) ||
      readdirSync(SOURCE_DIR).some((f) => mtime(join(SOURCE_DIR, f)) > builtAt);
    if (changed) {
      builtAt = Date.now();
      built = await buildPreview({ outdir: null });
      stamps = new Map(watched().map((p) => [p, mtime(p)]));
      log(`preview: rebuilt (${built.size.gzip} bytes gzipped)`);
    }
    return built;
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split(/[?#]/)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the preview is one page, at /\n');
      return;
    }
    currentPage().then(
      (page) => {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(page.html),
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy': page.csp,
        });
        res.end(req.method === 'HEAD' ? undefined : page.html);
      },
      (error) => {
        log(String(error.message ?? error));
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`The preview failed to build:\n\n${error.message ?? error}\n`);
      },
    );
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    size: built.size,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// ---- Command line -----------------------------------------------------------------------------

function kb(n) {
  return `${(n / 1024).toFixed(1)} KB`;
}

async function cli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { serve: { type: 'boolean' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: node build/preview.mjs [--serve [--port N]]\n' +
      `  (no options)  build the page to ${relative(ROOT, OUT_DIR)}/index.html\n` +
      `  --serve       build and serve it on http://127.0.0.1:${DEFAULT_PORT}/ (Ctrl-C stops)\n` +
      '  --port N      serve on port N instead (0: any free port)');
    return;
  }
  if (!values.serve) {
    if (values.port !== undefined) throw new Error('--port only applies with --serve');
    const { size } = await buildPreview();
    console.log(`preview: ${relative(ROOT, OUT_DIR)}/index.html, ${kb(size.html)}; gzipped ${kb(size.gzip)} of a ${kb(BUDGET_GZIP_BYTES)} budget`);
    return;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: expected a port number 0-65535`);
  ensureGenerated();
  let server;
  try {
    server = await startPreviewServer({ port, log: (m) => console.log(m) });
  } catch (error) {
    if (error.code === 'EADDRINUSE') throw new Error(`port ${port} is in use: try --port 0 for any free port`);
    throw error;
  }
  console.log(`preview: ${server.url}  (${kb(server.size.gzip)} gzipped; Ctrl-C to stop)`);
  const stop = () => {
    console.log('\npreview: stopped');
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli(process.argv.slice(2)).catch((error) => {
    console.error(`preview: ${String(error.message ?? error).replace(/^preview: /, '')}`);
    process.exit(1);
  });
}
