/**
 * Ctrl-C in a headless command: the first one cancels the running job (its tools get SIGINT and
 * the op writes its failed/aborted record), a second one exits at once.
 */
const controller = new AbortController();
let installed = false;

export function interruptSignal(): AbortSignal {
  if (!installed) {
    installed = true;
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
