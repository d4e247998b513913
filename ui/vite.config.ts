import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  clearScreen: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  server: { port: 1420, strictPort: true },
  build: { outDir: 'dist', target: 'safari15', sourcemap: false },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
