// Compiles Morpho Blue from its own npm package (@morpho-org/morpho-blue 1.0.0) with the exact
// compiler it pins (solc 0.8.19, via-IR, as its foundry.toml builds it), plus the package's own
// IrmMock, OracleMock and ERC20Mock; writes morpho_artifacts.json (abi + bytecode). Offline.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const solc = require("solc-0.8.19");
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const pkg = "@morpho-org/morpho-blue/src/";
const files = ["Morpho.sol", "mocks/IrmMock.sol", "mocks/OracleMock.sol", "mocks/ERC20Mock.sol"];
const sources = {};
for (const f of files) sources[pkg + f] = { content: fs.readFileSync(path.join(root, "node_modules", pkg + f), "utf8") };
const input = { language: "Solidity", sources, settings: { viaIR: true, optimizer: { enabled: true, runs: 999999 },
  evmVersion: "paris",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } } };
function findImports(p) {
  const full = path.join(root, "node_modules", p);
  return fs.existsSync(full) ? { contents: fs.readFileSync(full, "utf8") } : { error: "not found " + p };
}
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) { console.error(errors.map((e) => e.formattedMessage).join("\n")); process.exit(1); }
const artifacts = {};
for (const file of Object.keys(out.contracts)) for (const [name, c] of Object.entries(out.contracts[file])) if (c.evm.bytecode.object)
  artifacts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
fs.writeFileSync(path.join(here, "morpho_artifacts.json"), JSON.stringify(artifacts, null, 1));
console.log("compiled", Object.keys(artifacts).join(", "));
