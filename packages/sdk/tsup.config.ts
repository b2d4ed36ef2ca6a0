import { defineConfig } from "tsup";

// Two entries: the runtime-neutral core (any Connect transport; fetch by default) and the Node.js
// entry. The workspace packages (@cloudforet/proto, errors, resilience) are bundled in, so the
// tarball installs from the npm registry alone; third-party dependencies stay external.
export default defineConfig({
  entry: { index: "src/index.ts", node: "src/node.ts" },
  format: ["esm"],
  platform: "node",
  target: "es2022",
  splitting: true,
  treeshake: true,
  clean: true,
  dts: { resolve: [/^@cloudforet\//] },
  noExternal: [/^@cloudforet\//],
  tsconfig: "tsconfig.build.json",
});
