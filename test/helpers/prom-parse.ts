/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), enough to prove that
 * node_exporter's textfile collector would accept a file: every line is a comment, HELP, TYPE or
 * a sample; HELP and TYPE come once per family and before its samples; sample names belong to the
 * family whose TYPE came last; label values are properly quoted and escaped; values are floats.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE_RE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL_RE = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`);

export function parsePromText(text: string): Map<string, PromFamily> {
  if (!text.endsWith('\n')) throw new Error('the file must end with a newline');
  const families = new Map<string, PromFamily>();
  let current: PromFamily | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} "${line}"`;
    if (line.trim() === '') throw new Error(`${where}: empty line`);
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (help) {
      const f = families.get(help[1]!);
      if (f?.help) throw new Error(`${where}: second HELP for ${help[1]}`);
      if (f && f.samples.length) throw new Error(`${where}: HELP after samples`);
      current = f ?? { name: help[1]!, type: '', help: '', samples: [] };
      current.help = help[2]!;
      families.set(current.name, current);
      return;
    }
    if (type) {
      const f = families.get(type[1]!);
      if (f?.type) throw new Error(`${where}: second TYPE for ${type[1]}`);
      if (f && f.samples.length) throw new Error(`${where}: TYPE after samples`);
      current = f ?? { name: type[1]!, type: '', help: '', samples: [] };
      current.type = type[2]!;
      families.set(current.name, current);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`${where}: not a sample`);
    const [, name, labelText, value] = m;
    if (!current || current.name !== name) throw new Error(`${where}: sample of ${name} outside its family (# TYPE first)`);
    if (!VALUE_RE.test(value!)) throw new Error(`${where}: bad value ${value}`);
    const labels: Record<string, string> = {};
    let rest = labelText ?? '';
    while (rest.length > 0) {
      const lm = LABEL_RE.exec(rest);
      if (!lm) throw new Error(`${where}: bad labels at "${rest}"`);
      if (lm[1]! in labels) throw new Error(`${where}: duplicate label ${lm[1]}`);
      labels[lm[1]!] = lm[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (rest.length > 0) throw new Error(`${where}: expected "," between labels`);
    }
    const key = JSON.stringify(labels);
    if (current.samples.some((s) => JSON.stringify(s.labels) === key)) throw new Error(`${where}: duplicate series`);
    current.samples.push({ name: name!, labels, value: Number(value!.replace('Inf', 'Infinity')) });
  });
  for (const f of families.values()) {
    if (!f.type || !f.help) throw new Error(`family ${f.name} lacks # HELP or # TYPE`);
    if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`counter ${f.name} should end in _total`);
  }
  return families;
}
