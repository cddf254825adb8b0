// The sandbox's target lives beside the sandbox (engines use it too); ops callers keep this name.
export { sandboxTarget } from '../sandbox/target.js';
