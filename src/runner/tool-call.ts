import { basename } from 'node:path';
import type { Secret } from './secrets.js';
import type { Tool } from './tools.js';

/**
 * A program and how to start it: what runTool takes for one tool, runPipe for each side and
 * spawnDaemon for a server. Kept free of execa so a daemon's caller does not load it.
 */
export interface ToolCall {
  tool: Tool | string;
  args: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string | undefined>;
  secret?: Secret;
  cwd?: string;
  /** Run as another user (initdb and postgres refuse root). */
  uid?: number;
  gid?: number;
}

export const toolPath = (tool: Tool | string): string => (typeof tool === 'string' ? tool : tool.path);
export const toolName = (tool: Tool | string): string => (typeof tool === 'string' ? basename(tool) : tool.name);
