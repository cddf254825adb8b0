// Bundles the console (screens, Ink, React) into dist/console/ after tsc has built dist/.
// Measured on Node 20: importing the unbundled graph (hundreds of small ESM files, es-toolkit's
// barrel among them) costs ~1 s before the first frame; one bundled file costs ~0.15 s.
// Only the console is bundled: the headless commands, wal-push above all, keep their own small
// import graphs, and the engine the console calls is loaded lazily from dist/src as before.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const out = new URL('../dist/console/', import.meta.url);
rmSync(out, { recursive: true, force: true });
await build({
  input: new URL('../dist/screens/render.js', import.meta.url).pathname,
  platform: 'node',
  logLevel: 'warn',
  // Ink imports it only when DEV=true (React DevTools); it is not installed.
  external: ['react-devtools-core'],
  // React's production build: its development build (the default without NODE_ENV) checks and
  // warns on every render, which cost the first frame about as much as loading it.
  transform: { define: { 'process.env.NODE_ENV': JSON.stringify('production') } },
  output: { dir: out.pathname, format: 'esm', minify: true, sourcemap: true },
});
