import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { serviceRoutes, defaultServiceUrls } from "./server/routes";

// In development Vite's proxy routes `/<package>.<Service>/<Method>` exactly as server/gateway.ts does
// in production: by proto package, to the service's URL (<SERVICE>_URL, else its default port).
const services = defaultServiceUrls(process.env);
const proxy = Object.fromEntries(
  Object.entries(serviceRoutes).map(([pkg, name]) => [`^/${pkg.replace(/\./g, "\\.")}\\.`, { target: services[name], changeOrigin: false }]),
);

export default defineConfig({
  plugins: [react()],
  server: { port: Number(process.env.CONSOLE_DEV_PORT ?? 5173), proxy },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 400 },
});
