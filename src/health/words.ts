import { formatDuration } from '../config/duration.js';
import { formatBytes } from '../util/bytes.js';

/** A write rate as people read it: "1.1 MiB/s", "79 B/s". */
export function rateWords(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

const MONTH = 30 * 86400;

/** How long until a disk is full: "about 2h42m"; beyond a month the exact figure means nothing. */
export function fullInWords(seconds: number): string {
  return seconds > MONTH ? 'more than a month' : `about ${formatDuration(seconds)}`;
}
