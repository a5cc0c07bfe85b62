// The repository's import rules (../.dependency-cruiser.cjs), run over web/src by `pnpm run deps`
// at the root, resolving the @vmpulse/domain alias through this package's tsconfig.json.
const path = require('node:path');
const base = require('../.dependency-cruiser.cjs');

module.exports = { ...base, options: { ...base.options, tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') } } };
