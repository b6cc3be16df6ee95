// The layering docs/architecture.md draws, checked on the sources: which folder may import which, and no import cycles.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

type Area = "api" | "policy" | "kube" | "tls" | "issuer" | "admission" | "reconcile" | "cli" | "app" | "entry" | "sidecar" | "verify";

/** Where each area's files live, most specific first. */
const AREA_DIRS: readonly (readonly [Area, string])[] = [
  ["api", "api/"],
  ["policy", "controller/src/policy/"],
  ["kube", "controller/src/kube/"],
  ["tls", "controller/src/tls/"],
  ["issuer", "controller/src/issuer/"],
  ["admission", "controller/src/admission/"],
  ["reconcile", "controller/src/reconcile/"],
  ["cli", "controller/src/cli/"],
  ["app", "controller/src/app/"],
  // main.ts and what only entry points use: config, the root logger, the health listener.
  ["entry", "controller/src/"],
  ["sidecar", "sidecar/src/"],
  // The verifier kit for APIs that receive tokens (tessera/verify): it shares only the wire names and DPoP rules.
  ["verify", "verify/"],
];

/**
 * What each area may import besides itself. Lower layers never reach up: api <- policy <- kube, tls <- issuer,
 * admission, reconcile <- app (the composition root) <- entry. The three middle areas never import one another: what
 * one needs from another is a port of its own, connected in app/.
 */
const MAY_IMPORT: Readonly<Record<Area, readonly Area[]>> = {
  api: [],
  policy: ["api"],
  kube: ["api"],
  tls: ["api", "kube"],
  issuer: ["api", "policy", "kube", "tls"],
  admission: ["api", "policy", "kube", "tls"],
  reconcile: ["api", "policy", "kube", "tls"],
  cli: ["api", "policy", "kube", "issuer"],
  app: ["api", "policy", "kube", "tls", "issuer", "admission", "reconcile", "entry"],
  entry: ["api", "policy", "kube", "tls", "issuer", "admission", "reconcile", "app"],
  sidecar: ["api"],
  verify: ["api"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => relative(REPO, join(e.parentPath, e.name)));
}

function areaOf(file: string): Area | undefined {
  return AREA_DIRS.find(([, dir]) => file.startsWith(dir))?.[0];
}

/** Relative imports and re-exports of a file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)) {
    const spec = m[1];
    if (spec !== undefined) found.push(relative(REPO, resolve(REPO, dirname(file), spec)));
  }
  return found;
}

const files = [...sourceFiles("api"), ...sourceFiles("controller/src"), ...sourceFiles("sidecar/src"), ...sourceFiles("verify")];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

function crossings(): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = areaOf(file);
    if (from === undefined) continue;
    for (const target of targets) {
      const to = areaOf(target);
      if (to === undefined) {
        out.push(`${file} imports ${target}, outside the program's sources`);
      } else if (to !== from && !MAY_IMPORT[from].includes(to)) {
        out.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
  }
  return out;
}

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "visiting");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === "visiting") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe("the program's layering", () => {
  it("finds the sources it checks", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => areaOf(f) === undefined)).toEqual([]);
  });

  it("has no import from an area to one it may not import", () => {
    expect(crossings()).toEqual([]);
  });

  it("keeps jose and express in the verifier kit, out of the controller, the sidecar and the shared wire code", () => {
    const outside = files.filter((f) => areaOf(f) !== "verify" && /from\s+"(jose|express)(\/[^"]*)?"/.test(readFileSync(join(REPO, f), "utf8")));
    expect(outside).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles()).toEqual([]);
  });

  it.each([
    ["the policy engine reaching into the issuer", "controller/src/policy/x.ts", "controller/src/issuer/y.ts"],
    ["reconcile reaching into the issuer", "controller/src/reconcile/x.ts", "controller/src/issuer/y.ts"],
    ["TLS reaching up into admission", "controller/src/tls/x.ts", "controller/src/admission/y.ts"],
    ["the sidecar reaching into the controller", "sidecar/src/x.ts", "controller/src/policy/y.ts"],
    ["the sidecar reaching into the verifier kit", "sidecar/src/x.ts", "verify/y.ts"],
    ["the issuer reaching into the verifier kit", "controller/src/issuer/x.ts", "verify/y.ts"],
  ])("would refuse %s", (_name, from, to) => {
    const a = areaOf(from);
    const b = areaOf(to);
    expect(a !== undefined && b !== undefined && MAY_IMPORT[a].includes(b)).toBe(false);
  });
});
