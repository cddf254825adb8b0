import { resolveConfigDir } from '../config/paths.js';

export async function openConsole(configFlag: string | undefined): Promise<number> {
  const configDir = resolveConfigDir(configFlag);
  // Ink renders nothing but the last frame when it believes it runs in CI (is-in-ci reads CI at
  // import). The console only opens when stdin and stdout are terminals: someone is watching.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  // The bundle `npm run build` makes of screens/ (scripts/bundle-console.mjs): one file instead of
  // hundreds, so the first frame is not spent resolving modules.
  const bundle = new URL('../../console/render.js', import.meta.url).href;
  // The config store (conf) loads alongside the bundle: the first list of targets needs it.
  const apiModule = import('./console-api.js');
  // Then what the Targets rows' archiver and window need (health sampling, the window), so the
  // probes of a fleet start counting their timeout on a loaded module, not on its import.
  void apiModule.then((m) => m.loadCatalogModules().then(() => m.loadSummaryModules())).catch(() => undefined);
  const [{ runConsole }, { createConsoleApi }] = await Promise.all([withoutFetch(() => import(bundle) as Promise<typeof import('../../screens/render.js')>), apiModule]);
  await runConsole({ api: createConsoleApi(configDir) });
  return 0;
}

/**
 * Ink's layout engine (yoga-layout) is WebAssembly kept as a data: URL; when `fetch` exists its
 * loader fetches that URL through undici and compiles the response as a stream, which costs the
 * first frame ~70 ms (undici loads only for it). Without `fetch` it decodes the same bytes in
 * place. The descriptor is moved aside, not read, so undici is not loaded by looking.
 */
async function withoutFetch<T>(load: () => Promise<T>): Promise<T> {
  const fetch = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (!fetch?.configurable) return load();
  delete (globalThis as { fetch?: unknown }).fetch;
  try {
    return await load();
  } finally {
    Object.defineProperty(globalThis, 'fetch', fetch);
  }
}
