import type { RepoVerifyReport } from '../../ops/verify-repository.js';

const mark = (ok: boolean) => (ok ? 'OK  ' : 'FAIL');

/** The whole-repository verify report as lines: backups, archive ranges, replays, verdict. */
export function repositoryText(r: RepoVerifyReport): string {
  const lines: string[] = [];
  if (r.method) {
    const m = r.method;
    lines.push(`${mark(m.ok)} ${m.name} repository: ${m.checked.backups} backup(s), ${m.checked.archived} archived WAL file(s) checked${m.ok ? ', all intact' : ''}`);
    for (const f of m.findings) lines.push(`FAIL ${f}`);
  }
  if (r.backups.length > 0 || !r.method) lines.push(`Backups (${r.backups.length}):`);
  for (const b of r.backups) {
    const tag = b.status === 'skipped' ? '--  ' : mark(b.status === 'ok');
    lines.push(`${tag} ${b.backup} ${b.kind} ${b.type}: ${b.reason}${b.statusAfter === 'corrupt' && b.statusBefore !== 'corrupt' ? ' — now marked corrupt' : b.statusBefore === 'corrupt' && b.statusAfter === 'complete' ? ' — complete again' : ''}`);
    for (const rp of b.replay ?? []) if (!rp.ok) lines.push(`     FAIL replay${rp.timeline ? ` on timeline ${rp.timeline}` : ''}: ${rp.reason}`);
  }
  if (r.archive) {
    const a = r.archive;
    lines.push(`${a.kind === 'wal' ? 'WAL' : 'Binlog'} archive (${a.files} file(s) read):`);
    if (a.error) lines.push(`FAIL ${a.error}`);
    if (a.ranges.length === 0 && !a.error) lines.push('     nothing archived');
    for (const g of a.ranges) {
      const span = g.count === 1 ? g.first : `${g.first} … ${g.last}`;
      lines.push(`${mark(g.ok)} ${g.line} ${span}: ${g.reason}`);
    }
  }
  lines.push(
    r.ok
      ? `Repository of ${r.target} verified: ${r.backups.filter((b) => b.status === 'ok').length + (r.method?.checked.backups ?? 0)} backup(s) intact${r.archive ? `, archive intact and continuous from every backup to its end` : ''}.`
      : `Repository of ${r.target} FAILED verification: ${r.problems.length} problem(s).`,
  );
  return lines.join('\n');
}
