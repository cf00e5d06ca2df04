// Relative asset paths: the built page works from any folder it is copied or embedded into.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: { outDir: "dist", target: "es2020", chunkSizeWarningLimit: 1024 },
});
