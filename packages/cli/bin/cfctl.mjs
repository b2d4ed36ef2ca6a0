#!/usr/bin/env node
// Runs cfctl from its TypeScript sources without a build step: tsx's ESM loader compiles them on import.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
