// The import rules of src/ (README "Architecture"), checked by `npm run deps` (part of `npm run check` and .ci/run).
// Layers, top to bottom: cli → server → intake, pipeline → apply, drift → stages → github → capabilities →
// util, toolchain → core. A folder imports only from layers below it; nothing in src/ imports the test doubles in devtools/.
/** @param {string[]} folders */
const under = (folders) => `^src/(${folders.join('|')})(/|\\.ts$)`;
const CAPABILITIES = [
  'agent',
  'config',
  'cost',
  'markdown',
  'observability',
  'policy',
  'queue',
  'report',
  'repo',
  'sandbox',
  'store',
  'terraform',
];
const RUNS = ['pipeline', 'apply', 'drift', 'stages'];
const TOP = ['cli', 'cli\\.ts', 'server', 'intake'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between modules: data flows one way (webhook → intake → pipeline → GitHub writes).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-circular',
      comment: 'No cycles between folders either: a folder that imports another is never imported back by it.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-devtools',
      comment: 'The GitHub stand-in, the scripted model and the git remote are test doubles: the product never loads them.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(devtools|test|bench)/' },
    },
    {
      name: 'core-imports-nothing',
      comment: 'core/ holds the shared types every layer speaks: it imports no other folder of src/.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'util-only-core',
      comment: 'util/ and toolchain/ are the floor under the capabilities: they import only core/ (and each other).',
      severity: 'error',
      from: { path: under(['util', 'toolchain']) },
      to: { path: '^src/', pathNot: under(['core', 'util', 'toolchain']) },
    },
    {
      name: 'capabilities-not-up',
      comment: 'A capability (terraform, policy, cost, agent, store, queue…) never calls up into runs, GitHub or intake.',
      severity: 'error',
      from: { path: under(CAPABILITIES) },
      to: { path: under([...RUNS, 'github', ...TOP]) },
    },
    {
      name: 'github-not-up',
      comment: 'github/ is the GitHub writes adapter (client, comments, check runs, PR body): it never calls runs or intake.',
      severity: 'error',
      from: { path: under(['github']) },
      to: { path: under([...RUNS, ...TOP]) },
    },
    {
      name: 'stages-not-up',
      comment: 'stages/ (checkout, project choice, checks) is what runs are made of: it never calls a run or intake.',
      severity: 'error',
      from: { path: under(['stages']) },
      to: { path: under(['pipeline', 'apply', 'drift', ...TOP]) },
    },
    {
      name: 'apply-drift-not-up',
      comment: 'apply/ and drift/ are called by the pipeline and intake, never the other way; they do not import each other.',
      severity: 'error',
      from: { path: under(['apply', 'drift']) },
      to: { path: under(['pipeline', ...TOP]) },
    },
    {
      name: 'apply-through-its-port',
      comment: 'apply/ talks to GitHub only through its port (core/apply-port.ts), never github/ directly.',
      severity: 'error',
      from: { path: under(['apply']) },
      to: { path: under(['github', 'drift']) },
    },
    {
      name: 'drift-not-apply',
      severity: 'error',
      from: { path: under(['drift']) },
      to: { path: under(['apply']) },
    },
    {
      name: 'pipeline-not-up',
      comment: 'The pipeline runs jobs that intake enqueued; it never imports intake or the command line.',
      severity: 'error',
      from: { path: under(['pipeline']) },
      to: { path: under(TOP) },
    },
    {
      name: 'intake-not-up',
      comment: 'intake/ (webhook handlers and the commands they start) is started by the server, never the reverse.',
      severity: 'error',
      from: { path: under(['intake']) },
      to: { path: under(['cli', 'cli\\.ts', 'server']) },
    },
    {
      name: 'server-not-cli',
      severity: 'error',
      from: { path: under(['server']) },
      to: { path: under(['cli', 'cli\\.ts']) },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API, so dependency-cruiser parses with swc; `import type` counts as an import.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
