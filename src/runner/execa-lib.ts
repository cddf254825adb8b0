/**
 * execa, in one place so the build can replace this module with a single bundled file
 * (scripts/bundle-libs.mjs): execa's graph is about a hundred small modules, and resolving them
 * cost every command that starts a tool 190-320 ms on Node 20 against about 55 ms for one file
 * (measured) — most of dbdrill's own share of a pgBackRest backup. Under vitest the sources
 * import execa as usual.
 */
export { execa, type Options, type ResultPromise } from 'execa';
