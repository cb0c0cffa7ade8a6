// `npm start`'s prestart: runs `npm run build` when the build is missing or older than its sources,
// so a newcomer's `npm install && npm start` works (npm install builds nothing: the package has no
// prepare script). The build's own output goes to stderr: `npm start -- --json` keeps a clean stdout.
// An up-to-date tree is left alone (no rewrite under a running test or server).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUILT = join(root, 'dist/host/tools/cli.js');
const SOURCES = ['host', 'assembly', 'build', 'test/conformance'];
const SOURCE_FILE = /\.(ts|mjs|c|h|html|css)$/;
const SKIP = new Set(['out', 'preview', 'generated']); // build/'s outputs

/** The newest mtime of the sources under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!(dir === join(root, 'build') && SKIP.has(entry.name))) latest = Math.max(latest, newest(path));
    } else if (SOURCE_FILE.test(entry.name)) {
      latest = Math.max(latest, statSync(path).mtimeMs);
    }
  }
  return latest;
}

const builtAt = existsSync(BUILT) ? statSync(BUILT).mtimeMs : -1;
const stale = builtAt < 0 || SOURCES.some((dir) => existsSync(join(root, dir)) && newest(join(root, dir)) > builtAt);
if (stale) {
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 2, 2] })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
