// Compiles every test contract (*.sol here) offline with solc-js; writes artifacts.json (abi + bytecode).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const solc = require("solc");
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const sources = {};
for (const f of fs.readdirSync(here).filter((n) => n.endsWith(".sol")).sort()) sources[f] = { content: fs.readFileSync(path.join(here, f), "utf8") };
const input = { language: "Solidity", sources, settings: { optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } } } };
function findImports(p) {
  const full = path.join(root, "node_modules", p);
  return fs.existsSync(full) ? { contents: fs.readFileSync(full, "utf8") } : { error: "not found " + p };
}
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) { console.error(errors.map((e) => e.formattedMessage).join("\n")); process.exit(1); }
const artifacts = {};
for (const file of Object.keys(out.contracts)) for (const [name, c] of Object.entries(out.contracts[file])) if (c.evm.bytecode.object)
  artifacts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object, deployed: "0x" + c.evm.deployedBytecode.object };
fs.writeFileSync(path.join(here, "artifacts.json"), JSON.stringify(artifacts, null, 1));
console.log("compiled", Object.keys(artifacts).join(", "));
