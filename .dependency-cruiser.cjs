/**
 * dbdrill's import rules, checked by `npm run lint:deps` (and by scripts/test.sh before vitest).
 * The layers: screens/ (Ink) -> src/cli + src/ops -> src/engines, src/pitr, src/binlog, src/wal,
 * src/repo, src/runner. A rule break fails the build with the file pair and the rule's comment.
 *
 * KNOWN lists the breaks that exist today, one entry per file pair. They may only go away: a new
 * pair is a failure, and so is an entry that no longer occurs (scripts/lint-deps.mjs checks that),
 * so the list cannot hide a break that comes back.
 */

/** Modules the console may run (not only name as types): no I/O of their own, no tools, no drivers. */
const SCREEN_SAFE = [
  'src/config/duration.ts',
  'src/config/retention-words.ts',
  'src/util/bytes.ts',
  'src/pitr/window.ts',
  'src/pitr/time.ts',
  'src/pitr/inventory.ts',
  'src/pitr/wal-names.ts',
  'src/pitr/micros.ts',
  'src/pitr/timelines.ts',
  'src/health/words.ts',
  'src/binlog/stops.ts',
  'src/binlog/events.ts',
  'src/drill/estimate.ts',
  'src/training/session.ts',
  'src/errors.ts',
  // The Job type's plumbing (startJob, mapJob, deferJob): events and cancel, no I/O. A screen wraps
  // a start that threw in a Job with it, so the failure shows where the run would have been.
  'src/ops/job.ts',
];

/** What a screen must never reach, not even for a type: tools, drivers and engine internals. */
const IO = ['^node_modules/(execa|pg|pg-[a-z-]+|mysql2)/', '^src/runner/', '^src/engines/(postgres|mysql)/'];
/** Core modules that start processes or open sockets. */
const IO_CORE = '^(child_process|net|tls|http|https|http2|dgram|cluster|worker_threads)$';
const DRIVERS = '^node_modules/(pg|pg-[a-z-]+|mysql2)/';
const ENGINE_INTERNALS = '^src/engines/(postgres|mysql)/';

const KNOWN = {
  'no-circular': [],
  'engines-only-through-registry': [],
  'registry-loads-engines-lazily': [],
  'ops-no-drivers-or-engine-internals': [],
};

const exact = (path) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A rule with its known pairs carved out exactly: the files that have known pairs are left out
 * of the rule itself and get one rule each that allows only their own known targets.
 */
function withKnown(rule) {
  const pairs = KNOWN[rule.name] ?? [];
  const byFrom = new Map();
  for (const [from, to] of pairs) byFrom.set(from, [...(byFrom.get(from) ?? []), to]);
  const excepted = [...byFrom.keys()].map(exact);
  const base = { ...rule, from: { ...rule.from, pathNot: [...list(rule.from.pathNot), ...excepted] } };
  const perFile = [...byFrom].map(([from, tos]) => ({
    ...rule,
    from: { path: exact(from) },
    to: { ...rule.to, pathNot: [...list(rule.to.pathNot), ...tos.map(exact)] },
  }));
  return [base, ...perFile];
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the modules cannot be understood, tested or loaded lazily one without the other. Move what both need into a third module.',
      from: { path: '^(src|screens)/' },
      to: { circular: true },
    },
    {
      name: 'screens-value-imports',
      severity: 'error',
      comment:
        'Screens run only screens/, react, ink and the pure modules in SCREEN_SAFE (.dependency-cruiser.cjs); everything else comes through the ConsoleApi (screens/api.ts), whose types they may import. Add a module to SCREEN_SAFE only if it does no I/O of its own.',
      from: { path: '^screens/' },
      to: {
        dependencyTypesNot: ['type-only', 'core'],
        pathNot: ['^screens/', '^node_modules/(react|ink)/', ...SCREEN_SAFE.map(exact)],
      },
    },
    {
      name: 'screens-no-io',
      severity: 'error',
      comment: 'Screens never import execa, pg, mysql2, src/runner or engine internals, not even for a type: they reach tools and servers only through the ConsoleApi.',
      from: { path: '^screens/' },
      to: { path: [...IO, IO_CORE] },
    },
    {
      name: 'screen-safe-stays-pure',
      severity: 'error',
      comment: 'A module the console runs (SCREEN_SAFE) imports only other screen-safe modules: otherwise the console would load tools or drivers through it.',
      from: { path: SCREEN_SAFE.map(exact) },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: SCREEN_SAFE.map(exact),
        path: ['^src/', '^screens/', '^node_modules/', IO_CORE],
      },
    },
    {
      name: 'ops-no-drivers-or-engine-internals',
      severity: 'error',
      comment: 'src/ops orchestrates: it talks to a database only through an engine module, never through pg or mysql2 or an engine\'s internals.',
      from: { path: '^src/ops/' },
      to: { path: [DRIVERS, ENGINE_INTERNALS] },
    },
    {
      name: 'engines-only-through-registry',
      severity: 'error',
      comment: 'An engine module (src/engines/<engine>/index.ts) is loaded only by src/engines/registry.ts, lazily: the registry is the one table keyed by engine name, and wal-push and --version load no engine.',
      from: { path: '^(src|screens)/', pathNot: '^src/engines/registry\\.ts$' },
      to: { path: '^src/engines/(postgres|mysql)/index\\.ts$' },
    },
    {
      name: 'registry-loads-engines-lazily',
      severity: 'error',
      comment: 'The registry imports engine modules with a dynamic import() only, so asking for one engine never loads the other.',
      from: { path: '^src/engines/registry\\.ts$' },
      to: { path: '^src/engines/(postgres|mysql)/', dynamic: false, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'execa-only-in-runner',
      severity: 'error',
      comment: 'src/runner is the only place that starts tools (execa): lookup, secrets, cancel and the process-group kill live there.',
      from: { path: '^(src|screens)/', pathNot: '^src/runner/' },
      to: { path: '^node_modules/execa/' },
    },
    {
      name: 'entry-stays-light',
      severity: 'error',
      comment: 'The CLI entry imports commands lazily: dbdrill --version and wal-push (once per WAL segment) must not load what other commands need.',
      from: { path: '^src/cli/main\\.ts$' },
      to: { dynamic: false, pathNot: '^src/version\\.ts$' },
    },
    {
      name: 'wal-push-stays-light',
      severity: 'error',
      comment: 'wal-push and wal-fetch run once per WAL segment: no schema library, driver, execa or React on their path.',
      from: { path: ['^src/cli/commands/wal\\.ts$', '^src/version\\.ts$'] },
      to: { path: '^node_modules/(valibot|execa|pg|mysql2|ink|react)/', reachable: true },
    },
  ].flatMap(withKnown),
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count (a type cycle is still a cycle); rules that are about what runs say so.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

// Read by scripts/deps-report.mjs; not enumerable, so dependency-cruiser's config check does not see it.
Object.defineProperty(module.exports, 'KNOWN', { value: KNOWN, enumerable: false });
