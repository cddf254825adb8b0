// Replaces dist/src/config/conf-lib.js (a re-export of conf) with one bundled file: conf and its
// dependencies (ajv, ajv-formats, atomically, dot-prop, …) as a single module. Measured on Node
// 20: importing conf's graph ~140-240 ms, the bundle ~55-80 ms. Runs after tsc (see package.json).
import { build } from 'rolldown';

const file = new URL('../dist/src/config/conf-lib.js', import.meta.url).pathname;
await build({
  input: file,
  platform: 'node',
  logLevel: 'warn',
  output: { file, format: 'esm', minify: true },
});
