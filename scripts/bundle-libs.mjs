// Replaces each re-export module below with one bundled file: the library and its dependencies
// as a single module. Node 20 resolves and links every file of an ESM graph on import, so a
// graph of dozens of small packages costs each command start far more than one file. Measured:
// conf (ajv, ajv-formats, atomically, dot-prop, …) ~140-240 ms → ~55-80 ms; execa (~100
// modules) 190-320 ms → ~55 ms. Runs after tsc (see package.json).
import { build } from 'rolldown';

for (const lib of ['src/config/conf-lib.js', 'src/runner/execa-lib.js']) {
  const file = new URL(`../dist/${lib}`, import.meta.url).pathname;
  await build({
    input: file,
    platform: 'node',
    logLevel: 'warn',
    output: { file, format: 'esm', minify: true },
  });
}
