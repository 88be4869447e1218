// Builds the pipeline dashboard (dashboard/src, Preact) into dashboard/dist: one ES module, its
// stylesheet and index.html, served by the API at /dashboard (src/http/dashboard-app.ts). Runs
// before `npm start`, `npm run api`, `npm run demo` and `npm test`; offline, well under 2 s.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../dashboard/', import.meta.url));
const dist = `${root}dist/`;

// zod re-exports every locale as `z.locales` (260 kB minified) though the page uses English,
// which zod loads on its own: the re-export is replaced by an empty module.
const noZodLocales = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

const started = Date.now();
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: { main: `${root}src/main.tsx` },
  outdir: dist,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [noZodLocales],
  // The page is served under the API's CSP: no eval, no inline code; nothing here needs either.
  define: { 'process.env.NODE_ENV': '"production"' },
});
await copyFile(`${root}index.html`, `${dist}index.html`);
if (process.argv.includes('--verbose')) console.log(`dashboard built into ${dist} in ${Date.now() - started} ms`);
