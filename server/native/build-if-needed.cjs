// pnpm runs a workspace package's install script on every `pnpm install`: rebuild the addon
// only when it is missing or older than its sources (a rebuild costs ~15 s).
const { existsSync, readdirSync, statSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const out = path.join(__dirname, 'build', 'Release', 'vmpulse_libvirt.node');
const sources = ['binding.gyp', ...readdirSync(path.join(__dirname, 'src')).map((f) => path.join('src', f))];
const stale =
  !existsSync(out) || sources.some((f) => statSync(path.join(__dirname, f)).mtimeMs > statSync(out).mtimeMs);
if (stale) execFileSync('node-gyp', ['rebuild'], { cwd: __dirname, stdio: 'inherit', shell: true });
