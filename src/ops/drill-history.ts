import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TargetStore } from '../config/store.js';
import { invalid } from '../errors.js';
import type { DrillReport } from '../drill/report.js';
import { parseDrillReport } from '../drill/report-schema.js';
import { readJsonFile } from '../util/untrusted-file.js';
import { drillsDir } from './drill.js';

/**
 * Every drill report of a target, newest first. A damaged or foreign report stops the listing
 * with its sentence (file and field): a history that silently drops a failed drill would flatter.
 */
export function listDrills(configDir: string, name: string): DrillReport[] {
  const target = new TargetStore(configDir).get(name);
  const dir = drillsDir(target.repo);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^\d{8}T\d{6}Z(-\d+)?\.json$/.test(f));
  } catch {
    return [];
  }
  // Newest first; a suffixed id (same second) is newer than its plain one.
  const key = (f: string) => { const m = /^(\d{8}T\d{6}Z)(?:-(\d+))?/.exec(f)!; return `${m[1]}${(m[2] ?? '1').padStart(6, '0')}`; };
  return files
    .sort((a, b) => key(a).localeCompare(key(b)))
    .reverse()
    .flatMap((f) => {
      const file = join(dir, f);
      const raw = readJsonFile(file);
      // Removed between listing and reading: it is simply no longer part of the history.
      return raw === undefined ? [] : [parseDrillReport(raw, file, f.slice(0, -'.json'.length))];
    });
}

export function readDrill(configDir: string, name: string, id?: string): DrillReport {
  const all = listDrills(configDir, name);
  const r = id ? all.find((d) => d.id === id) : all[0];
  if (!r) {
    throw invalid(id ? `There is no drill ${id} for target "${name}"; list them with dbdrill drills ${name}.` : `Target "${name}" has no drill yet; run one with dbdrill drill ${name}.`);
  }
  return r;
}
