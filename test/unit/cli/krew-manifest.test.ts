// The krew manifest names the plugin binary the npm package installs, so both ways put the same kubectl-tessera on PATH.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../api/crd-files.ts";

describe("the kubectl plugin", () => {
  const manifest = parse(readFileSync(join(REPO_ROOT, "plugins", "krew", "tessera.yaml"), "utf8")) as {
    kind: string;
    metadata: { name: string };
    spec: { platforms: { bin: string }[]; description: string };
  };
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };

  it("is a krew Plugin named tessera whose every platform runs kubectl-tessera", () => {
    expect(manifest.kind).toBe("Plugin");
    expect(manifest.metadata.name).toBe("tessera");
    expect(manifest.spec.platforms.map((p) => p.bin)).toEqual(["kubectl-tessera"]);
  });

  it("is the npm package's kubectl-tessera bin, the same entry point as tessera", () => {
    expect(pkg.bin["kubectl-tessera"]).toBe(pkg.bin["tessera"]);
  });

  it("describes every command the CLI dispatches", () => {
    const main = readFileSync(join(REPO_ROOT, "controller", "src", "cli", "main.ts"), "utf8");
    const commands = [...main.matchAll(/case "([a-z-]+)":\n\s+return run/g)].map((m) => m[1] ?? "");
    expect(commands.sort()).toEqual(["check", "explain", "test", "who-can"]);
    for (const command of commands) expect(manifest.spec.description).toContain(`kubectl tessera ${command}`);
  });
});
