import type { EngineArchive } from '../contract.js';
import { compareBinlogNames } from '../../binlog/names.js';
import { binlogsBelow, removeBinlogs } from '../../binlog/prune.js';
import { baseMoment } from '../../binlog/window.js';

/** MySQL/MariaDB's archive in the repository: binlog files, positioned by file name (in binlog order). */
export const mysqlArchive: EngineArchive = {
  filesBelow: (repo, position) => binlogsBelow(repo, position),
  remove: (repo, names) => removeBinlogs(repo, names),
  compare: compareBinlogNames,
  pitrStart(m) {
    if (m.mysql?.binlogFile === undefined || m.mysql.binlogPosition === undefined) return undefined;
    return { pitrFrom: baseMoment(m), archiveFrom: m.mysql.binlogFile };
  },
  closesOnTimer: false,
};
