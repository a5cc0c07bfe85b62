// The import rules of server/src and web/src (DESIGN.md and README "Layout": imports run one way),
// checked in `npm test` by `pnpm run deps` (a suite of scripts/run-tests.mjs; web/src through
// web/.dependency-cruiser.cjs, which reuses these rules). A rule here is a design decision: change
// it together with the Layout notes, never to make a single import pass.
//
//   domain ← lib ← libvirt ← a feature's services and collector ← its rest/ and graphql/ files ← http ← app/main
//
// config.ts is a leaf beside them (it imports nothing of the project; lib may name its types).
// features/<f>/feature.ts sits on top of its own feature: it hands the app the services, REST
// routes and GraphQL types, so it imports the feature's rest/ and graphql/ files; other features
// use a feature only through it.
//
// Paths are relative to the repository root, where `pnpm run deps` runs. Test code (test/ folders,
// *.test.ts) is exempt from the direction rules — a test may build whatever it needs — but not from
// the cycle rule.

/** Test code: test/ folders anywhere and *.test.ts(x). */
const TEST = '(^|/)test/|\\.test\\.tsx?$';
/** A feature's edge files: its REST shims and GraphQL types. */
const FEATURE_EDGE = '^server/src/features/[^/]+/(rest|graphql)/';
/** A feature's public API, and the file that hands the app its services, routes and GraphQL types. */
const FEATURE_API = '^server/src/features/[^/]+/feature\\.ts$';
/** The entry points that assemble everything. */
const ENTRY = '^server/src/(app|main)\\.ts$|^server/src/cli/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles, type-only imports included (tsPreCompilationDeps below): a cycle through ' +
        'types is still two modules that each need the other, and it hides a layering mistake until ' +
        'someone turns the type into a value. Break it with a narrow interface declared by the consumer.',
      from: { path: '^server/src/' },
      to: { circular: true },
    },
    {
      name: 'domain-imports-nothing',
      severity: 'error',
      comment:
        'domain/ is the shared vocabulary (metric names and units, the snapshot, VM states, history ' +
        'fields and ranges). It imports nothing — no other part of the server, no package, no node: ' +
        'module — so everything can import it, including the web app (web/ aliases it as @vmpulse/domain).',
      from: { path: '^server/src/domain/', pathNot: TEST },
      to: { pathNot: '^server/src/domain/' },
    },
    {
      name: 'config-is-a-leaf',
      severity: 'error',
      comment:
        'config.ts reads and validates the environment. It imports nothing from the project, so any ' +
        'layer may read a Config without pulling the layers above it.',
      from: { path: '^server/src/config\\.ts$' },
      to: { path: '^server/src/' },
    },
    {
      name: 'lib-imports-domain-only',
      severity: 'error',
      comment:
        'lib/ (db, logger, errors, auth, generic pubsub, limits) sits under everything but domain. ' +
        'It may use the generated Prisma client (src/generated, a build output of prisma/schema.prisma, ' +
        'treated like a package) and the Config type (next rule), nothing else of the project.',
      from: { path: '^server/src/lib/', pathNot: TEST },
      to: { path: '^server/src/', pathNot: '^server/src/(lib|domain|generated)/|^server/src/config\\.ts$' },
    },
    {
      name: 'lib-reads-config-types-only',
      severity: 'error',
      comment:
        'lib/ may name the Config type (import type) but not call into config.ts: loading and masking ' +
        'the configuration is the entry points\' job, and lib must stay usable without an environment.',
      from: { path: '^server/src/lib/', pathNot: TEST },
      to: { path: '^server/src/config\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'libvirt-imports-lib-and-domain-only',
      severity: 'error',
      comment:
        'libvirt/ wraps the native addon. It knows nothing of features, GraphQL or HTTP, so the ' +
        'collector and the services can call it and it can be tested on the test driver alone.',
      from: { path: '^server/src/libvirt/', pathNot: TEST },
      to: { path: '^server/src/', pathNot: '^server/src/(libvirt|lib|domain)/' },
    },
    {
      name: 'graphql-core-imports-lib-and-domain-only',
      severity: 'error',
      comment:
        'graphql/ (builder, scalars, schema) is the shared GraphQL machinery. Features register their ' +
        'types on the builder; the builder never imports a feature, so adding a feature touches no file here.',
      from: { path: '^server/src/graphql/', pathNot: TEST },
      to: { path: '^server/src/', pathNot: '^server/src/(graphql|lib|domain)/' },
    },
    {
      name: 'services-know-no-edge',
      severity: 'error',
      comment:
        'A feature\'s services, collector and stores sit under its REST and GraphQL files: they never ' +
        'import them, nor the shared GraphQL machinery, nor http/ or the entry points. Only feature.ts, ' +
        'which hands the app the feature\'s routes and GraphQL types, imports its rest/ and graphql/ files.',
      from: { path: '^server/src/features/', pathNot: `${FEATURE_EDGE}|${FEATURE_API}|${TEST}` },
      to: { path: `${FEATURE_EDGE}|^server/src/(graphql|http)/|${ENTRY}` },
    },
    {
      name: 'features-know-no-http-or-app',
      severity: 'error',
      comment:
        'http/ and the entry points sit above every feature: the app hands the edge what the features ' +
        'declare. A feature (its REST and GraphQL files included) never imports them.',
      from: { path: '^server/src/features/', pathNot: TEST },
      to: { path: `^server/src/http/|${ENTRY}` },
    },
    {
      name: 'features-meet-through-feature-ts',
      severity: 'error',
      comment:
        'A feature uses another only through that feature\'s public API, features/<other>/feature.ts ' +
        '(e.g. dumps use inventory\'s VMs), so a feature can change its insides freely. It never imports ' +
        'the feature list (features/index.ts) either.',
      from: { path: '^server/src/features/([^/]+)/', pathNot: TEST },
      to: { path: '^server/src/features/', pathNot: '^server/src/features/$1/|^server/src/features/[^/]+/feature\\.ts$' },
    },
    {
      name: 'http-gets-features-handed',
      severity: 'error',
      comment:
        'http/ is the edge: it receives the features\' routes, the schema and the services from app.ts ' +
        'and imports no feature and no entry point, so a new feature never touches it.',
      from: { path: '^server/src/http/', pathNot: TEST },
      to: { path: `^server/src/features/|${ENTRY}` },
    },
    {
      name: 'only-entry-points-build-the-app',
      severity: 'error',
      comment:
        'app.ts is the assembly: only the entry points (main.ts, cli/) and tests build the app. ' +
        'Anything else that needed it would sit above the whole server.',
      from: { pathNot: `${ENTRY}|${TEST}|^server/test/` },
      to: { path: '^server/src/app\\.ts$' },
    },
    {
      name: 'only-entry-points-list-features',
      severity: 'error',
      comment:
        'The feature list (features/index.ts) is read by the app and the entry points; ' +
        'server/scripts/print-schema.ts also imports it, to register every GraphQL type before printing the SDL.',
      from: { pathNot: `${ENTRY}|${TEST}|^server/test/|^server/scripts/print-schema\\.ts$` },
      to: { path: '^server/src/features/index\\.ts$' },
    },
    {
      name: 'production-imports-no-test-code',
      severity: 'error',
      comment: 'Test helpers and fixtures are not shipped (tsconfig.build.json excludes test/): production code must not need them.',
      from: { path: '^server/(src|scripts)/', pathNot: TEST },
      to: { path: `${TEST}|^server/test/` },
    },
    {
      name: 'web-imports-only-domain-from-server',
      severity: 'error',
      comment:
        'The web app shares the server\'s vocabulary (metric names and units, history ranges) through ' +
        'the @vmpulse/domain alias and nothing else: domain/ imports nothing, so the bundle pulls in no server code.',
      from: { path: '^web/src/' },
      to: { path: '^server/', pathNot: '^server/src/domain/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency; the rules above cannot judge it.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are dependencies too: they count for cycles and for the direction.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // Generated code (Prisma client, web codegen) is checked by its generator, not here.
    exclude: { path: '^server/src/generated/|^web/src/gql/|(^|/)dist/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
