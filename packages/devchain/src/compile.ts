import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

const require = createRequire(import.meta.url);
const SOURCE_FILE = fileURLToPath(new URL("../contracts/TestUSDC.sol", import.meta.url));
const SOURCE_NAME = "contracts/TestUSDC.sol";
const CONTRACT = "TestUSDC";
const SETTINGS = {
  // Off: it would roughly double the cold compile for gas savings nobody needs on a devchain.
  optimizer: { enabled: false },
  // Pinned so the bytecode does not depend on solc's moving default and runs on any recent anvil.
  evmVersion: "cancun",
  outputSelection: { [SOURCE_NAME]: { [CONTRACT]: ["abi", "evm.bytecode.object"] } },
};

const packageVersion = (name: string): string => require(`${name}/package.json`).version;

/**
 * TestUSDC's abi and bytecode, compiled on first use and then served from
 * node_modules/.cache, because loading solc and compiling costs a second or two per start.
 */
export async function loadTestUsdcArtifact(): Promise<Artifact> {
  const source = await readFile(SOURCE_FILE, "utf8");
  // The OpenZeppelin version stands in for the imported sources: they only change with it.
  const key = createHash("sha256")
    .update(
      JSON.stringify([source, packageVersion("solc"), packageVersion("@openzeppelin/contracts"), SETTINGS]),
    )
    .digest("hex")
    .slice(0, 16);
  const nodeModules = path.dirname(path.dirname(require.resolve("solc/package.json")));
  const cacheDir = path.join(nodeModules, ".cache", "robo402-devchain");
  const cacheFile = path.join(cacheDir, `${CONTRACT}-${key}.json`);

  try {
    return JSON.parse(await readFile(cacheFile, "utf8")) as Artifact;
  } catch {
    // Not cached yet (or unreadable): compile below.
  }
  const artifact = await compile(source);
  await mkdir(cacheDir, { recursive: true });
  // Write then rename, so a devchain starting in parallel never reads half a file.
  const partial = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(partial, JSON.stringify(artifact));
  await rename(partial, cacheFile);
  return artifact;
}

async function compile(source: string): Promise<Artifact> {
  // Imported lazily: loading the compiler alone takes most of a second, which warm starts skip.
  const { default: solc } = await import("solc");
  const input = { language: "Solidity", sources: { [SOURCE_NAME]: { content: source } }, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: resolveImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  const contract = output.contracts?.[SOURCE_NAME]?.[CONTRACT];
  if (errors.length > 0 || !contract) {
    throw new Error(
      `${SOURCE_NAME} does not compile:\n${errors.map((error) => error.formattedMessage).join("\n")}`,
    );
  }
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}

function resolveImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(importPath), "utf8") };
  } catch {
    return { error: `cannot resolve ${importPath} from node_modules` };
  }
}
