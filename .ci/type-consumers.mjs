// The type-consumer matrix: packs @tideway/core and @tideway/client as they would be published,
// installs the tarballs with npm (offline: their dependencies are packed from this workspace too)
// into a temporary project, and compiles packages/client/test/types-consumers/consumer.ts with tsc
// under every module/moduleResolution pair a user may have. Needs a build first (`pnpm build`).
// Leaves nothing behind: the project lives in the OS temp directory and is removed at the end.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packAll } from "./pack-all.mjs";

const root = process.cwd();
const fixture = join(root, "packages/client/test/types-consumers/consumer.ts");
const ts = createRequire(join(root, "package.json"))("typescript");

const nodeTypes = join(root, "node_modules/@types");

/** [name, package.json "type", tsconfig compilerOptions, how the consumer imports the client] */
const CASES = [
  ["node16-esm", "module", { module: "node16", moduleResolution: "node16" }, "import"],
  ["node16-cjs", "commonjs", { module: "node16", moduleResolution: "node16" }, "import"],
  ["nodenext-esm", "module", { module: "nodenext", moduleResolution: "nodenext" }, "import"],
  ["nodenext-cjs", "commonjs", { module: "nodenext", moduleResolution: "nodenext" }, "import"],
  ["bundler-esm", "module", { module: "esnext", moduleResolution: "bundler" }, "import"],
  // A bundler compiling CommonJS: `import = require()` resolves with the "require" condition.
  ["bundler-cjs", "commonjs", { module: "preserve", moduleResolution: "bundler" }, "require"],
];

function run(command, cwd) {
  const result = spawnSync(command, { shell: true, cwd, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

function must(command, cwd) {
  const result = run(command, cwd);
  if (!result.ok) throw new Error(`${command} failed in ${cwd}:\n${result.output}`);
  return result.output;
}

/** Where Node would find `name` from the package at `dir`: the nearest node_modules up the tree. */
function locate(dir, name) {
  for (let at = dir; at !== dirname(at); at = dirname(at)) {
    const candidate = join(at, "node_modules", name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error(`${name} not found from ${dir}`);
}

/** The packages a packed package needs at run time, found as Node would (pnpm's layout included). */
function runtimeDependencies(dir, found = new Map()) {
  const { dependencies = {} } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const name of Object.keys(dependencies)) {
    if (name.startsWith("@tideway/") || found.has(name)) continue;
    const real = locate(dir, name);
    found.set(name, real);
    runtimeDependencies(real, found);
  }
  return found;
}

/**
 * Type-checks `dir`/consumer.ts and the packages' declaration files it loads (not the rest of
 * node_modules: checking @types/node in full for every case was most of the time). One process for
 * every case, parsed files shared between them as TypeScript's own language service does.
 */
function compile(dir, json, cache) {
  const formatHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => "\n",
  };
  const { options, errors } = ts.convertCompilerOptionsFromJson(json, dir);
  if (errors.length > 0) return ts.formatDiagnostics(errors, formatHost);
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (fileName.startsWith(dir)) return getSourceFile.call(host, fileName, languageVersion, ...rest);
    const key = `${fileName}|${JSON.stringify(languageVersion)}`;
    if (!cache.has(key)) cache.set(key, getSourceFile.call(host, fileName, languageVersion, ...rest));
    return cache.get(key);
  };
  const program = ts.createProgram({ rootNames: [join(dir, "consumer.ts")], options, host });
  const ours = program
    .getSourceFiles()
    .filter((f) => f.fileName.startsWith(dir) || f.fileName.includes("/node_modules/@tideway/"));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return ts.formatDiagnostics(diagnostics, formatHost).trim();
}

const work = mkdtempSync(join(tmpdir(), "tideway-type-consumers-"));
let failed = 0;
try {
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  packAll(root, tarballs);
  for (const dir of runtimeDependencies(join(root, "packages/client")).values()) {
    must(`npm pack --ignore-scripts --pack-destination "${tarballs}" "${dir}"`, work);
  }
  const project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  const files = readdirSync(tarballs).map((f) => `"${join(tarballs, f)}"`);
  must(`npm install --offline --no-audit --no-fund --no-package-lock ${files.join(" ")}`, project);

  const source = readFileSync(fixture, "utf8");
  const cache = new Map();
  for (const [name, type, compilerOptions, style] of CASES) {
    // Inside the project: the installed node_modules one level up is found by resolution.
    const dir = join(project, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type }));
    const text =
      style === "require"
        ? source.replace('import * as tw from "@tideway/client";', 'import tw = require("@tideway/client");')
        : source;
    writeFileSync(join(dir, "consumer.ts"), text);
    const options = {
      ...compilerOptions,
      target: "es2022",
      strict: true,
      noEmit: true,
      types: ["node"],
      typeRoots: [nodeTypes],
    };
    const errors = compile(dir, options, cache);
    console.log(`${errors === "" ? "ok  " : "FAIL"} ${name}`);
    if (errors !== "") {
      failed++;
      console.log(errors);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`type consumers: ${CASES.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
