import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { machine, recordRun } from "../results.ts";

describe("bench/RESULTS.md", () => {
  const dirs: string[] = [];
  const file = () => {
    const dir = mkdtempSync(join(tmpdir(), "robo402-results-"));
    dirs.push(dir);
    return join(dir, "RESULTS.md");
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("puts each run above the previous ones and removes none", () => {
    const path = file();
    recordRun(path, "first run", "| row | 1.00 |");
    recordRun(path, "second run", "| row | 2.00 |");
    recordRun(path, "third run", "| row | 3.00 |");
    const text = readFileSync(path, "utf8");
    expect(text.startsWith("# Bench results\n")).toBe(true);
    const headings = text.split("\n").filter((line) => line.startsWith("## "));
    expect(headings).toEqual(["## third run", "## second run", "## first run"]);
    for (const figure of ["1.00", "2.00", "3.00"]) expect(text).toContain(`| row | ${figure} |`);
  });

  it("describes the machine: date, CPU model and count, memory, Node version", () => {
    const description = machine(new Date("2030-01-02T03:04:05.000Z"));
    expect(description).toMatch(/^2030-01-02T03:04:05\.000Z — .+ × \d+, \d+\.\d GiB, Node v\d+\./);
  });
});
