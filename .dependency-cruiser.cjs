/**
 * pycstore's import rules, checked by `npm run lint:deps` (part of `npm test`).
 *
 * Four layers, imports pointing down only:
 *
 *   cli      src/cli.ts, src/cli/, src/commands/    the command line
 *   api      src/index.ts, src/api/                  the library surface (the CLI calls it too)
 *   features src/{dedup,gc,unshare,verify,audit,status,schedule,discover}/
 *   infra    src/{util,fs,store,ledger,python,session}/
 *   core     src/{pyc,marshal,hash,canonical}/, src/errors.ts   pure code over bytes
 *
 * Features don't import each other (what two of them share belongs in infra). Inside infra the
 * folders are ordered too: util < fs < store < ledger < session, and python (interpreters, venvs,
 * the pyc scanner) may use util, fs and store. No circular imports anywhere.
 */
const CORE = '^src/(pyc|marshal|hash|canonical)/|^src/errors\\.ts$';
const INFRA = '^src/(util|fs|store|ledger|python|session)/';
const FEATURES = '^src/(dedup|gc|unshare|verify|audit|status|schedule|discover)/';
const API = '^src/(index\\.ts$|api/)';
const CLI = '^src/(cli\\.ts$|cli/|commands/)';

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'A cycle means two modules are one concept split in two, or a layer points up.',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'core-is-pure',
    severity: 'error',
    comment: 'core (pyc, marshal, hash, canonical, errors) imports only core.',
    from: { path: CORE },
    to: { path: '^src/', pathNot: CORE },
  },
  {
    name: 'core-no-io',
    severity: 'error',
    comment: 'core touches no files, processes or databases.',
    from: { path: CORE },
    to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|child_process|worker_threads|net|os)$' },
  },
  {
    name: 'infra-below-features',
    severity: 'error',
    comment: 'infra (util, fs, store, ledger, python, session) never imports a feature, the api or the cli.',
    from: { path: INFRA },
    to: { path: `${FEATURES}|${API}|${CLI}` },
  },
  {
    name: 'features-below-api',
    severity: 'error',
    comment: 'features never import the api or the cli.',
    from: { path: FEATURES },
    to: { path: `${API}|${CLI}` },
  },
  {
    name: 'features-independent',
    severity: 'error',
    comment: 'a feature never imports another feature: what they share belongs in infra.',
    from: { path: '^src/(dedup|gc|unshare|verify|audit|status|schedule|discover)/' },
    to: { path: FEATURES, pathNot: '^src/$1/' },
  },
  {
    name: 'api-below-cli',
    severity: 'error',
    comment: 'the library surface never imports the command line.',
    from: { path: API },
    to: { path: CLI },
  },
  {
    name: 'util-is-bottom',
    severity: 'error',
    comment: 'util imports only core.',
    from: { path: '^src/util/' },
    to: { path: INFRA, pathNot: '^src/util/' },
  },
  {
    name: 'fs-below-store',
    severity: 'error',
    comment: 'fs imports only util (and core).',
    from: { path: '^src/fs/' },
    to: { path: INFRA, pathNot: '^src/(fs|util)/' },
  },
  {
    name: 'store-below-ledger',
    severity: 'error',
    comment: 'store (objects, addresses, lock, permissions) imports only fs and util.',
    from: { path: '^src/store/' },
    to: { path: INFRA, pathNot: '^src/(store|fs|util)/' },
  },
  {
    name: 'ledger-below-session',
    severity: 'error',
    comment: 'the ledger imports only store, fs and util.',
    from: { path: '^src/ledger/' },
    to: { path: INFRA, pathNot: '^src/(ledger|store|fs|util)/' },
  },
  {
    name: 'python-beside-ledger',
    severity: 'error',
    comment: 'python (interpreters, venvs, the pyc scanner) imports only store, fs and util.',
    from: { path: '^src/python/' },
    to: { path: INFRA, pathNot: '^src/(python|store|fs|util)/' },
  },
  {
    name: 'not-to-unresolvable',
    severity: 'error',
    from: { path: '^src/' },
    to: { couldNotResolve: true },
  },
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
