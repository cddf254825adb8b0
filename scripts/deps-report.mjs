// Reporter for `npm run lint:deps` (dependency-cruiser's plugin interface): every broken import
// rule as "rule: from → to", each rule's reason once, and every known exception in
// .dependency-cruiser.cjs that no longer occurs, so the exception list can only shrink.
import { createRequire } from 'node:module';

const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');

/** Whether `from` still imports `to` (for a cycle pair: on a cycle). */
function occurs(modules, rule, from, to) {
  const m = modules.find((x) => x.source === from);
  const dep = m?.dependencies.find((d) => d.resolved === to);
  return dep !== undefined && (rule !== 'no-circular' || dep.circular === true);
}

export default function report(result) {
  const violations = result.summary?.violations ?? [];
  const modules = result.modules ?? [];
  const comments = new Map((result.summary?.ruleSetUsed?.forbidden ?? []).map((r) => [r.name, r.comment]));
  const lines = [];
  const broken = new Set();
  for (const v of violations) {
    const via = v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')})` : v.via ? ` (via ${v.via.map((c) => c.name).join(' → ')})` : '';
    lines.push(`${v.rule.name}: ${v.from} → ${v.to}${via}`);
    broken.add(v.rule.name);
  }
  for (const name of broken) lines.push(`  ${name}: ${comments.get(name) ?? ''}`);
  let stale = 0;
  if (modules.length > 0) {
    for (const [rule, pairs] of Object.entries(config.KNOWN)) {
      for (const [from, to] of pairs) {
        if (occurs(modules, rule, from, to)) continue;
        stale++;
        lines.push(`${rule}: ${from} → ${to} no longer occurs; remove it from KNOWN in .dependency-cruiser.cjs so it cannot come back.`);
      }
    }
  }
  const errors = violations.filter((v) => v.rule.severity === 'error').length;
  const known = Object.values(config.KNOWN).reduce((n, pairs) => n + pairs.length, 0);
  const total = result.summary?.totalCruised ?? 0;
  lines.push(
    errors + stale === 0
      ? `import rules: OK (${total} modules; ${known} known exceptions left, removed by the engine contract)`
      : `import rules: ${errors} broken, ${stale} stale exception(s) (${total} modules)`,
  );
  return { output: `${lines.join('\n')}\n`, exitCode: errors + stale > 0 ? 1 : 0 };
}
