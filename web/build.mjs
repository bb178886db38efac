// Builds the browser app into dist/ for go:embed (package web).
//
//   dist/index.html, dist/watch.html   pages from static/, asset links rewritten
//   dist/assets/<name>-<HASH>.js(.map) esbuild bundles of src/index.js, src/watch.js
//   dist/assets/style-<hash>.css       static/style.css, minified, content-hashed
//   dist/assets/*.gz                   gzip copies the Go handler serves when accepted
//
// Every asset name carries a content hash, so the Go side serves assets as
// immutable and pages as no-cache. dist/placeholder.txt is kept: it is the
// one committed file, so `go:embed dist` compiles on a fresh clone.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const assets = join(dist, "assets");
const PLACEHOLDER = "placeholder.txt";
const PAGES = ["index.html", "watch.html"];
const ENTRIES = ["index", "watch"];

async function clean() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name !== PLACEHOLDER) await rm(join(dist, name), { recursive: true, force: true });
  }
  await mkdir(assets, { recursive: true });
}

/** Bundles the entry points; returns logical name ("watch.js") -> file name. */
async function bundle() {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRIES.map((e) => `src/${e}.js`),
    outdir: assets,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    // Browsers from 2021 on: BigInt, optional chaining, ES modules. (esbuild
    // cannot lower destructuring for Safari 14, which @noble/ed25519 uses.)
    target: ["es2020", "chrome87", "firefox78", "safari15"],
    minify: true,
    sourcemap: "linked",
    metafile: true,
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    // p2p-media-loader-core publishes a self-contained browser bundle
    // (bittorrent-tracker and its Node polyfills included) under this
    // export condition; its plain "import" entry needs Node built-ins.
    conditions: ["p2pml:core-as-bundle"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  const names = {};
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    names[basename(meta.entryPoint)] = basename(out);
  }
  return names;
}

/** Minifies static/style.css into a content-hashed file. */
async function styles() {
  const css = await readFile(join(root, "static", "style.css"), "utf8");
  const { code } = await esbuild.transform(css, { loader: "css", minify: true, target: ["chrome87", "safari15"] });
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 8);
  const name = `style-${hash}.css`;
  await writeFile(join(assets, name), code);
  return { "style.css": name };
}

/** Copies the pages, pointing /assets/<logical name> at the hashed files. */
async function pages(names) {
  for (const page of PAGES) {
    const html = await readFile(join(root, "static", page), "utf8");
    const out = html.replace(/\/assets\/([A-Za-z0-9_.-]+)/g, (_, logical) => {
      const file = names[logical];
      if (!file) throw new Error(`${page}: /assets/${logical} is not a build output`);
      return `/assets/${file}`;
    });
    await writeFile(join(dist, page), out);
  }
}

/** Writes .gz next to each script and style sheet when that saves bytes. */
async function compress() {
  for (const name of await readdir(assets)) {
    if (!/\.(js|css)$/.test(name)) continue;
    const body = await readFile(join(assets, name));
    const gz = gzipSync(body, { level: 9 });
    if (gz.length < body.length) await writeFile(join(assets, `${name}.gz`), gz);
  }
}

async function main() {
  await clean();
  const names = { ...(await bundle()), ...(await styles()) };
  await pages(names);
  await compress();
  for (const [logical, file] of Object.entries(names)) console.log(`${logical} -> assets/${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
