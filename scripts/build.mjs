#!/usr/bin/env node
// `pnpm build`: compiles each service's src/main.ts (and the console's gateway,
// apps/console/server/main.ts, as "console"), with the workspace packages it imports, into one
// ES module dist/<service>.mjs that plain `node` runs (production runs compiled JavaScript, not
// TypeScript through a loader). Third-party packages stay external: they are imported from
// node_modules as they are, by a path relative to dist/ (pnpm gives a service's dependencies' own
// dependencies no top-level link, so the bare name would not resolve from dist/).
//
// `node scripts/build.mjs [service…]` builds those only; `--if-stale` skips a service whose bundle
// is newer than every workspace source file (scripts/start.ts uses it).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readFile } from "node:fs/promises";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const distDir = path.join(root, "dist");
const sourceRoots = ["packages", "services", "apps"].map((dir) => path.join(root, dir));

/** Entry points that are not services/<name>/src/main.ts. */
const otherEntries = { console: "apps/console/server/main.ts" };
const entryOf = (name) => path.join(root, otherEntries[name] ?? path.join("services", name, "src/main.ts"));

/** Every service with a src/main.ts, and the console's gateway. */
export function buildableServices() {
  const services = readdirSync(path.join(root, "services")).filter((name) => {
    try {
      return statSync(entryOf(name)).isFile();
    } catch {
      return false;
    }
  });
  return [...services, ...Object.keys(otherEntries)];
}

export const bundlePath = (service) => path.join(distDir, `${service}.mjs`);

/** True when dist/<service>.mjs is missing or older than a workspace source file or migration. */
export function isStale(service) {
  let built;
  try {
    built = statSync(bundlePath(service)).mtimeMs;
  } catch {
    return true;
  }
  return newestSource() > built;
}

let newest;
function newestSource() {
  if (newest !== undefined) return newest;
  newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name === "src" && dir.endsWith(`${path.sep}console`) || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|mjs|js|json|sql)$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of sourceRoots) walk(dir);
  return newest;
}

/**
 * Third-party imports stay external, rewritten to a path relative to dist/ of the file Node would
 * load for them from the importing package (esbuild resolves it with the same conditions Node uses
 * for `import`). Workspace packages (@cloudforet/*) are TypeScript and are bundled.
 */
const externalNodeModules = {
  name: "external-node-modules",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.resolving || args.path.startsWith("@cloudforet/") || args.path.startsWith("node:")) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { resolving: true } });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (!resolved.path.includes(`${path.sep}node_modules${path.sep}`) || resolved.external) return undefined;
      const relative = path.relative(distDir, resolved.path).split(path.sep).join("/");
      return { path: relative.startsWith(".") ? relative : `./${relative}`, external: true };
    });
  },
};

/**
 * `import.meta.url` in a workspace file means that file (services find their migrations folder by
 * it); once bundled it would mean dist/<service>.mjs. Each use is rewritten to the original file's
 * URL, computed from the bundle's own location so the repository can move.
 */
const keepImportMetaUrl = {
  name: "keep-import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`) && !isWorkspaceFile(args.path)) return undefined;
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const relative = path.relative(distDir, args.path).split(path.sep).join("/");
      return { contents: source.replaceAll("import.meta.url", `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: "ts" };
    });
  },
};

function isWorkspaceFile(file) {
  return sourceRoots.some((dir) => file.startsWith(dir + path.sep));
}

export async function buildService(service) {
  await esbuild.build({
    entryPoints: [entryOf(service)],
    outfile: bundlePath(service),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: "linked",
    // Keeps stack traces and log lines readable; the bundle is for running, not for shipping small.
    minify: false,
    logLevel: "warning",
    plugins: [externalNodeModules, keepImportMetaUrl],
    // Some bundled dependencies are CommonJS-flavoured TypeScript helpers: give them `require`.
    banner: { js: 'import { createRequire as __cfCreateRequire } from "node:module"; const require = __cfCreateRequire(import.meta.url);' },
  });
}

async function main() {
  const args = process.argv.slice(2);
  const ifStale = args.includes("--if-stale");
  const wanted = args.filter((a) => !a.startsWith("--"));
  const services = wanted.length > 0 ? wanted : buildableServices();
  const started = Date.now();
  let built = 0;
  for (const service of services) {
    if (ifStale && !isStale(service)) continue;
    await buildService(service);
    built++;
  }
  if (built > 0) process.stdout.write(`built ${built} service bundle(s) into dist/ in ${Date.now() - started} ms\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((err) => {
    process.stderr.write(`build failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
