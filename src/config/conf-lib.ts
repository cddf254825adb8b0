/**
 * The config store's library, in one place so the build can replace this module with a single
 * bundled file (scripts/bundle-libs.mjs): conf pulls in ajv and a dozen small packages, and
 * resolving them cost every command — the console's first frame and each wal-push start among
 * them — about 100 ms more than loading one file. Under vitest the sources import conf as usual.
 */
export { default } from 'conf';
