import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// In this repository `agentwarden/*` resolves to the TypeScript sources (as tsconfig.json's `paths` does for
// tsc and tsx); users get the built `dist/` through the package's `exports`.
const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^agentwarden$/, replacement: entry("./src/index.ts") },
      { find: /^agentwarden\/(langgraph|mcp|otel|prometheus|testing)$/, replacement: entry("./adapters/$1/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
