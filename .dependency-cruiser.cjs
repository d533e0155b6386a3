// The import rules of the monorepo, checked by `pnpm deps` (a step of `pnpm test`):
// depcruise packages --config .dependency-cruiser.cjs
/** Shipped sources: the rules about what a published package may import apply to these. */
const SHIPPED = "^packages/(core|client)/src/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-is-self-contained",
      comment:
        "The core is sans-I/O and runs in any JavaScript runtime: it imports only its own modules " +
        "(no node: built-ins, no npm packages, no other workspace package).",
      severity: "error",
      from: { path: "^packages/core/src/" },
      to: { pathNot: "^packages/core/src/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles, in any package: a cycle means two modules share one job.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "only-transports-open-sockets",
      comment:
        "Only transport modules (packages/client/src/*transport*.ts, node-*.ts) import node:net or " +
        "node:tls in shipped code; tools and tests may run servers of their own.",
      severity: "error",
      from: {
        path: SHIPPED,
        pathNot: [
          "^packages/client/src/[^/]*transport[^/]*\\.ts$",
          "^packages/client/src/node-[^/]*\\.ts$",
          // The socket's read path (Node's onread), part of the transport.
          "^packages/client/src/direct-reads\\.ts$",
          // Known exceptions: connection.ts checks socket types to know when a write completed
          // synchronously, proxy.ts dials the proxy. Both to go through a transport module.
          "^packages/client/src/(connection|proxy)\\.ts$",
        ],
      },
      to: { dependencyTypes: ["core"], path: "^(node:)?(net|tls)$" },
    },
    {
      name: "packages-import-each-other-by-name",
      comment:
        "A package reaches another one through its name (@tideway/core, @tideway/client, or a " +
        "documented subpath such as @tideway/core/internals), never by a relative path into its files.",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: {
        path: "^packages/",
        // The client's test servers and certificates are shared with the cli's end-to-end tests.
        pathNot: ["^packages/$1/", "^packages/client/test/helpers/"],
        dependencyTypesNot: ["aliased"],
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
