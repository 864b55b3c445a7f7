// The authors' editor, built to client/dist, which the worker serves as static assets
// (wrangler.toml [assets]). No dev server: `make dev` serves it with the API from one origin.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  logLevel: 'warn',
});
