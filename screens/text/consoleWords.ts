/**
 * The engine's sentences name the CLI's flags ("give --into a new or empty directory"); in the
 * console the operator fixes a field or presses a key, so the sentence names that instead.
 */
const REWRITES: ReadonlyArray<[RegExp, string]> = [
  [/\bgive --into\b/g, 'give the Into field'],
  [/\bgive --port\b/g, 'give the Port field'],
  [/\bthe target's --host\/--port\b/g, "the target's host and port (e on Targets)"],
  [/\bthe target's --host\b/g, "the target's host (e on Targets)"],
  [/\bthe target's --port\b/g, "the target's port (e on Targets)"],
  [/\bfor --dbname\b/g, 'for a new database'],
  // The Catalog's logical restore form: its Database field is what --dbname is to the CLI.
  [/\bchoose a new --dbname\b/g, 'choose a new name in the Database field (r again)'],
  [/^--dbname (\S+) is the target's own database\b/g, 'Database $1 is the target\'s own database'],
  // The console has no identity field: the age private key reaches it through its environment.
  [/\bgive --identity FILE \(the private key matching the recipient (\S+)\) or set DBDRILL_AGE_IDENTITY\b/g, 'start the console with DBDRILL_AGE_IDENTITY=FILE (the private key matching the recipient $1)'],
  [/\bgive (?:the restore )?--identity(?: FILE \(or DBDRILL_AGE_IDENTITY\))? with\b/g, 'start the console with DBDRILL_AGE_IDENTITY=FILE, the file holding'],
  [/\brun the restore with --identity FILE \(or DBDRILL_AGE_IDENTITY\),/g, 'start the console with DBDRILL_AGE_IDENTITY=FILE,'],
  [/\bgive --identity FILE to\b/g, 'start the console with DBDRILL_AGE_IDENTITY=FILE (the age private key) to'],
  [/\bneed --identity FILE\b/g, 'need DBDRILL_AGE_IDENTITY=FILE when the console starts'],
];

export function consoleWords(sentence: string): string {
  return REWRITES.reduce((s, [from, to]) => s.replace(from, to), sentence);
}
