/**
 * Ctrl-C in a headless command: the first one cancels the running job (its tools get SIGINT and
 * the op writes its failed/aborted record), a second one exits at once.
 */
const controller = new AbortController();
let installed = false;

export function interruptSignal(): AbortSignal {
  if (!installed) {
    installed = true;
    // conf -> atomically -> when-exit hooks SIGINT/SIGTERM at import and re-raises the signal to
    // kill the process at once, which would leave a backup marked running and its tool orphaned.
    // The listeners present now are only such hooks (sandboxes register theirs later), so they go.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(sig)) process.removeListener(sig, l);
    }
    const onSignal = (sig: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(`dbdrill: ${sig} received, stopping (press Ctrl-C again to exit at once)\n`);
      controller.abort(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return controller.signal;
}
