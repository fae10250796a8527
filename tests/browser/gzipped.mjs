// The size of what a URL serves, as sent and gzipped (zlib's default level, as servers and CDNs
// compress). Usage: node gzipped.mjs <url>. Prints one JSON line: {"bytes": …, "gzipped": …}.
import { gzipSync } from "node:zlib";

const response = await fetch(process.argv[2]);
if (!response.ok) throw new Error(`${process.argv[2]} answered ${response.status}`);
const body = Buffer.from(await response.arrayBuffer());
console.log(JSON.stringify({ bytes: body.length, gzipped: gzipSync(body).length }));
