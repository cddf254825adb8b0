import type { RunEvent } from '../runner/run.js';
import type { EngineContext as JobContext } from './context.js';

/** Passes a tool's output lines on as job events (the console's log pane, --verbose in the CLI). */
export function forwardToolEvents(ctx: JobContext, also?: (e: RunEvent) => void): (e: RunEvent) => void {
  return (e) => {
    if (e.type === 'line') ctx.emit({ type: 'tool-line', tool: e.tool, stream: e.stream, text: e.text });
    also?.(e);
  };
}
