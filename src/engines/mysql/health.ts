import type { Target } from '../../config/target.js';
import { readBinlogSyncRuns } from '../../health/binlog-sync-runs.js';
import { deriveMysqlBinlog } from '../../health/mysql-derive.js';
import type { MysqlSample } from '../../health/mysql-sample.js';
import { mysqlSource } from '../../health/sources.js';
import type { EngineHealthOptions, EngineHealthSampler } from '../contract.js';
import { continuedSeries } from '../../health/sample-history.js';

/** MySQL/MariaDB's health: the binary log and binlog-sync's recorded runs, derived into archiving checks. */
export function mysqlHealthSampler(target: Target, o: EngineHealthOptions): EngineHealthSampler {
  const src = mysqlSource(target, o.timeoutMs);
  const series: MysqlSample[] = continuedSeries('mysql', o.seed, o.size).samples;
  return {
    async sample() {
      let s = await src.sample();
      if (o.configDir !== undefined) s = { ...s, sync: readBinlogSyncRuns(o.configDir, target.name) };
      return {
        derive() {
          series.push(s);
          if (series.length > o.size) series.splice(0, series.length - o.size);
          const d = deriveMysqlBinlog(series, o.thresholds);
          const flavor = s.flavor === 'mariadb' ? 'MariaDB' : 'MySQL';
          return {
            server: { reachable: true, version: s.version, systemId: s.systemId },
            checks: [{ name: 'server', status: 'OK', reason: `${flavor} ${s.version} at ${target.host}:${target.port} answers.` }, ...d.checks],
            binlog: d.view,
          };
        },
      };
    },
    series: () => ({ engine: 'mysql', samples: [...series] }),
    close: () => src.close(),
  };
}
