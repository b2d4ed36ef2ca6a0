// The architecture boundaries check (`pnpm check:boundaries`; a step of scripts/test.mjs): which way
// imports may run, as ../shared/STYLE.md "Which way imports run" says. Paths are the resolved ones:
// a workspace name (`@cloudforet/db`) resolves through pnpm's symlink to packages/db/src/index.ts, so
// every rule is written on where the import lands, whatever spelling reached it.
//
// Type-only imports count (tsPreCompilationDeps: true): a type import of another service or of a
// server-side package still couples the code and still needs that package installed to typecheck.
// The same goes for cycles: a type-only import circle is still a knot between two modules.

/** Client-side packages (and plugins and apps such as the console): an SDK user, a plugin or a browser installs no database driver. */
const CLIENT = "^(packages/(sdk|plugin-sdk|resilience|cli|errors|proto|reflection)|plugins/[^/]+|apps/[^/]+)/";
/** Server-side packages: database, event bus, service runtime, test harness. */
const SERVER = "^packages/(runtime|db|events|outbound|testing|query)/";
const SERVICE_NAMES = "cloud-service|cost|identity|inventory|monitoring|notification|orchestration";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cross-service",
      severity: "error",
      comment: "A service never imports another service's code: it calls its API through the generated client or reacts to its events.",
      from: { path: "^services/([^/]+)/" },
      to: { path: "^services/", pathNot: "^services/$1/" },
    },
    {
      name: "no-cross-service-by-name",
      severity: "error",
      comment: "A service never imports another service by package name (caught here when the name does not resolve).",
      from: { path: "^services/([^/]+)/" },
      to: { path: `^@cloudforet/(${SERVICE_NAMES})(/|$)`, pathNot: "^@cloudforet/$1(/|$)" },
    },
    {
      name: "no-package-to-service",
      severity: "error",
      comment: "packages/* are libraries the services build on; they never import a service.",
      from: { path: "^packages/" },
      to: { path: [`^services/`, `^@cloudforet/(${SERVICE_NAMES})(/|$)`] },
    },
    {
      name: "no-client-to-server",
      severity: "error",
      comment: "Client-side packages (sdk, plugin-sdk, resilience, cli, errors, proto, reflection) plugins and apps (the web console) never import server-side ones (runtime, db, events, outbound, testing, query).",
      from: { path: CLIENT },
      to: { path: [SERVER, "^@cloudforet/(runtime|db|events|outbound|testing|query)(/|$)"] },
    },
    {
      name: "no-package-internals",
      severity: "error",
      comment: "Import another package by its name (what its src/index.ts exports), not a path into its src/. The generated code's @cloudforet/proto/... subpaths are the intended way, and so are the declared entries @cloudforet/sdk/node and @cloudforet/resilience/core.",
      from: { path: "^([^/]+/[^/]+)" },
      to: { path: "^packages/[^/]+/", pathNot: ["^$1/", "^packages/[^/]+/src/index\\.ts$", "^packages/proto/src/gen/", "^packages/sdk/src/node\\.ts$", "^packages/resilience/src/core\\.ts$"] },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycle between modules, type-only imports included (tests/, bench/ and scripts/ have none either, so they are held to it too).",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "An import that does not resolve would slip past the rules above (and fails at runtime).",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist)/" }, // dist/: built bundles (services, the console)
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
