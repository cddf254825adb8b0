import { describe, expect, it } from 'vitest';
import { windowTitle } from '../../screens/text/time.js';

describe("the Restore screen's window title", () => {
  const both = '2026-12-07 03:27:11.558Z → 2026-12-07 03:29:40.07Z';
  it('says both dates when the line fits', () => {
    expect(windowTitle('prod', both, 120)).toBe(`Recoverable window of prod: ${both}`);
  });
  it("drops the end's date when it is the start's and the line would be cut at 80 columns", () => {
    const t = windowTitle('sandbox', both, 80);
    expect(t).toBe('Recoverable window of sandbox: 2026-12-07 03:27:11.558Z → 03:29:40.07Z');
    expect(t.length).toBeLessThanOrEqual(80);
  });
  it('at 60 columns drops the target name too, so both times stay whole', () => {
    const t = windowTitle('sandbox', '2026-12-07 03:27:11.558Z → 2026-12-07 03:28:46.913Z', 60);
    expect(t).toBe('Recoverable window: 2026-12-07 03:27:11.558Z → 03:28:46.913Z');
    expect(t.length).toBeLessThanOrEqual(60);
  });
  it('keeps a different end date', () => {
    const across = '2026-12-06 23:59:59.5Z → 2026-12-07 00:00:10.25Z';
    expect(windowTitle('sandbox', across, 80)).toBe(`Recoverable window of sandbox: ${across}`);
  });
});
