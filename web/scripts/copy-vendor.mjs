// Copy Swagger UI's and ReDoc's files from their npm packages next to the app, so that /docs and
// /redoc are served by the service itself and work offline (no CDN).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(web, "..", "app", "static", "vendor");
const files = [
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"],
  ["redoc/bundles/redoc.standalone.js", "redoc/redoc.standalone.js"],
  ["redoc/LICENSE", "redoc/LICENSE"],
];
for (const [from, to] of files) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(web, "node_modules", from), join(out, to));
}
copyFileSync(join(web, "public-src", "favicon.svg"), join(out, "favicon.svg"));

// ReDoc's side menu shows a logo it loads from a CDN; point it at the local icon instead.
const redoc = join(out, "redoc", "redoc.standalone.js");
const cdnLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const bundle = readFileSync(redoc, "utf8");
if (!bundle.includes(cdnLogo)) throw new Error(`${redoc}: the CDN logo moved; update this script`);
writeFileSync(redoc, bundle.replaceAll(cdnLogo, "/vendor/favicon.svg"));
writeFileSync(join(out, "README.txt"), "Copied by web/scripts/copy-vendor.mjs from npm packages.\n");
console.log(`vendor files copied to ${out}`);
