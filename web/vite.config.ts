import { defineConfig } from "vite";

// The build goes into the Python package (app/static), served by FastAPI's StaticFiles.
export default defineConfig({
  base: "/",
  build: {
    outDir: "../app/static",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
  },
  server: { proxy: { "^/(?!assets|src|@|node_modules).+": "http://127.0.0.1:8000" } },
});
