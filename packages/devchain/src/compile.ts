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
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

/** What the devchain puts on chain: the token (deployed) and Multicall3 (its runtime code, set in place). */
export interface Artifacts {
  testUsdc: Artifact;
  multicall3Code: Hex;
}

const require = createRequire(import.meta.url);
const SOURCES = ["TestUSDC", "Multicall3"] as const;
const sourceName = (contract: string) => `contracts/${contract}.sol`;
const SETTINGS = {
  // Off: it would roughly double the cold compile for gas savings nobody needs on a devchain.
  optimizer: { enabled: false },
  // Pinned so the bytecode does not depend on solc's moving default and runs on any recent anvil.
  evmVersion: "cancun",
  outputSelection: {
    [sourceName("TestUSDC")]: { TestUSDC: ["abi", "evm.bytecode.object"] },
    [sourceName("Multicall3")]: { Multicall3: ["evm.deployedBytecode.object"] },
  },
};

const packageVersion = (name: string): string => require(`${name}/package.json`).version;

/**
 * The contracts, compiled on first use and then served from node_modules/.cache, because loading
 * solc and compiling costs a second or two per start.
 */
export async function loadArtifacts(): Promise<Artifacts> {
  const sources = Object.fromEntries(
    await Promise.all(
      SOURCES.map(async (contract) => [
        sourceName(contract),
        await readFile(fileURLToPath(new URL(`../${sourceName(contract)}`, import.meta.url)), "utf8"),
      ]),
    ),
  ) as Record<string, string>;
  // The OpenZeppelin version stands in for the imported sources: they only change with it.
  const key = createHash("sha256")
    .update(
      JSON.stringify([sources, packageVersion("solc"), packageVersion("@openzeppelin/contracts"), SETTINGS]),
    )
    .digest("hex")
    .slice(0, 16);
  const nodeModules = path.dirname(path.dirname(require.resolve("solc/package.json")));
  const cacheDir = path.join(nodeModules, ".cache", "robo402-devchain");
  const cacheFile = path.join(cacheDir, `contracts-${key}.json`);

  try {
    return JSON.parse(await readFile(cacheFile, "utf8")) as Artifacts;
  } catch {
    // Not cached yet (or unreadable): compile below.
  }
  const artifacts = await compile(sources);
  await mkdir(cacheDir, { recursive: true });
  // Write then rename, so a devchain starting in parallel never reads half a file.
  const partial = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(partial, JSON.stringify(artifacts));
  await rename(partial, cacheFile);
  return artifacts;
}

async function compile(sources: Record<string, string>): Promise<Artifacts> {
  // Imported lazily: loading the compiler alone takes most of a second, which warm starts skip.
  const { default: solc } = await import("solc");
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: resolveImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  const token = output.contracts?.[sourceName("TestUSDC")]?.TestUSDC;
  const multicall = output.contracts?.[sourceName("Multicall3")]?.Multicall3;
  if (errors.length > 0 || !token || !multicall) {
    throw new Error(`contracts do not compile:\n${errors.map((error) => error.formattedMessage).join("\n")}`);
  }
  return {
    testUsdc: { abi: token.abi, bytecode: `0x${token.evm.bytecode.object}` },
    multicall3Code: `0x${multicall.evm.deployedBytecode.object}`,
  };
}

function resolveImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(importPath), "utf8") };
  } catch {
    return { error: `cannot resolve ${importPath} from node_modules` };
  }
}
