import { defineConfig } from "tsup";

// The plugin SDK (Node.js only): one entry. The workspace packages (@cloudforet/proto, errors,
// reflection) are bundled in, so the tarball installs from the npm registry alone; third-party
// dependencies stay external.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  platform: "node",
  target: "es2022",
  treeshake: true,
  clean: true,
  dts: { resolve: [/^@cloudforet\//] },
  noExternal: [/^@cloudforet\//],
  tsconfig: "tsconfig.build.json",
});
