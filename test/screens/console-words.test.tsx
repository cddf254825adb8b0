import { afterEach, describe, expect, test } from 'vitest';
import { DbdrillError } from '../../src/errors.js';
import { startJob } from '../../src/ops/job.js';
import type { PitrReport } from '../../src/ops/pitr.js';
import { consoleWords } from '../../screens/text/consoleWords.js';
import { fakeApi, target } from './fakeApi.js';
import { prodManifests } from './fixtures.js';
import { cleanupAll, KEYS, renderApp, stripAnsi } from './helpers.js';

afterEach(cleanupAll);

// Issue 20: error sentences in the console named CLI flags; they name the field or key instead.

describe('console words', () => {
  test('flags become the field or key that fixes it', () => {
    expect(consoleWords('Port 5432 is already in use on 127.0.0.1; give --port a free port.')).toBe('Port 5432 is already in use on 127.0.0.1; give the Port field a free port.');
    expect(consoleWords('/tmp/x is not empty; a restore never writes over existing files, so give --into a new or empty directory.')).toContain('give the Into field a new or empty directory');
    expect(consoleWords("Nothing accepts connections at 10.0.0.5:5432 (connection refused); check that the server runs there or fix the target's --host/--port.")).toContain(
      "fix the target's host and port (e on Targets).",
    );
    expect(consoleWords('The host name "db" does not resolve; fix the target\'s --host.')).toContain("fix the target's host (e on Targets).");
    expect(consoleWords('Database "x" already exists on h:5432; a restore never writes into an existing database, so choose a new --dbname.')).toContain('choose a new name in the Database field (r again).');
    expect(consoleWords("--dbname shop is the target's own database; a restore never overwrites its source, so name a new database.")).toBe(
      "Database shop is the target's own database; a restore never overwrites its source, so name a new database.",
    );
  });

  test('an encrypted repository names the environment variable the console reads, never --identity', () => {
    const said = [
      "Backup 20261207T101010Z-P is encrypted with age; give --identity FILE (or DBDRILL_AGE_IDENTITY) with the private key matching the target's recipient.",
      'Backup 20261207T101010Z-P could not be decrypted: no identity matched; give --identity with the private key matching the target.',
      'The copy nas of prod is encrypted with age; give --identity FILE (the private key matching the recipient age1abc) or set DBDRILL_AGE_IDENTITY.',
      'encrypted with age: the ciphertext matches its sha256; give --identity FILE to also run pg_verifybackup on the decrypted backup',
      'The repository of prod and its copies are encrypted with age to 1 recipient(s). Restores need --identity FILE.',
      'The archive is encrypted: run the restore with --identity FILE (or DBDRILL_AGE_IDENTITY), the private key matching the target.',
      'Nothing was restored; give the restore --identity with the private key matching the target.',
    ].map(consoleWords);
    for (const s of said) {
      expect(s).not.toContain('--identity');
      expect(s).toContain('DBDRILL_AGE_IDENTITY=FILE');
    }
    expect(said[0]).toBe("Backup 20261207T101010Z-P is encrypted with age; start the console with DBDRILL_AGE_IDENTITY=FILE, the file holding the private key matching the target's recipient.");
    expect(said[2]).toBe('The copy nas of prod is encrypted with age; start the console with DBDRILL_AGE_IDENTITY=FILE (the private key matching the recipient age1abc).');
    expect(said[4]).toBe('The repository of prod and its copies are encrypted with age to 1 recipient(s). Restores need DBDRILL_AGE_IDENTITY=FILE when the console starts.');
  });

  test('a refused plan on Restore names the Port field, not --port', async () => {
    const api = fakeApi({ targets: [target('prod')], manifests: { prod: prodManifests() } });
    api.planRestore = () => startJob<PitrReport>(async () => {
      throw new DbdrillError('invalid-input', 'Port 54871 is already in use on 127.0.0.1; give --port a free port.');
    });
    const r = renderApp(api);
    await r.waitForFrame((f) => f.includes('prod'));
    await r.press('3');
    await r.waitForFrame((f) => f.includes('Recoverable window of prod'));
    await r.press(KEYS.enter);
    const frame = stripAnsi(await r.waitForFrame((f) => f.includes('FAIL')));
    expect(frame.replace(/\s+/g, ' ')).toContain('give the Port field a free port.');
    expect(frame).not.toContain('--port');
  });
});
