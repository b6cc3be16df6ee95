// The Tessera chart rendered with the cached helm, and its manifests handed to the real apiserver through kubectl.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { helmTemplate, runHelm } from "../../controlplane/helm.ts";
import { controlPlaneInfo, REPO_ROOT } from "../support/index.ts";

export const CHART_DIR = join(REPO_ROOT, "charts", "tessera");

/** A rendered object, loosely typed: tests read the fields they check. */
export interface Rendered {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace: string;
  readonly values?: Readonly<Record<string, unknown>>;
  /** Extra API versions helm should assume the cluster serves (`--api-versions`). */
  readonly apiVersions?: readonly string[];
}

/** helm keeps caches and config under these; a scratch directory keeps it off the user's home. */
async function helmEnv<T>(run: (env: NodeJS.ProcessEnv, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tessera-helm-"));
  try {
    const env = { ...process.env, HELM_CACHE_HOME: join(dir, "cache"), HELM_CONFIG_HOME: join(dir, "config"), HELM_DATA_HOME: join(dir, "data") };
    return await run(env, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function valuesArgs(dir: string, values: Readonly<Record<string, unknown>> | undefined): Promise<string[]> {
  if (values === undefined) return [];
  const file = join(dir, "values.yaml");
  await writeFile(file, stringify(values));
  return ["-f", file];
}

/** `helm template` of the chart; rejects with helm's stderr (schema and `fail` messages) when rendering fails. */
export async function renderChartText(options: RenderOptions): Promise<string> {
  return await helmEnv(async (env, dir) => {
    const args = [
      "--namespace",
      options.namespace,
      ...(await valuesArgs(dir, options.values)),
      ...(options.apiVersions ?? []).flatMap((v) => ["--api-versions", v]),
    ];
    return await helmTemplate(controlPlaneInfo().binaries.helm, options.release ?? "tessera", CHART_DIR, args, { env });
  });
}

/** The rendered objects, in helm's order. */
export async function renderChart(options: RenderOptions): Promise<Rendered[]> {
  return parseRendered(await renderChartText(options));
}

/** The objects of a multi-document manifest. */
export function parseRendered(text: string): Rendered[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null && typeof o === "object" && typeof o.kind === "string");
}

/** `helm lint --strict` of the chart with the given values; resolves with helm's output. */
export async function lintChart(values?: Readonly<Record<string, unknown>>): Promise<string> {
  return await helmEnv(async (env, dir) => {
    const result = await runHelm(controlPlaneInfo().binaries.helm, ["lint", "--strict", CHART_DIR, ...(await valuesArgs(dir, values))], { env });
    return result.stdout;
  });
}

/**
 * `helm install --dry-run=server` against the shared control plane: helm reads the real server's version and API
 * groups, renders everything including NOTES.txt, and installs nothing. Resolves with helm's output.
 */
export async function installDryRun(release: string, namespace: string, values?: Readonly<Record<string, unknown>>): Promise<string> {
  return await helmEnv(async (env, dir) => {
    const args = ["install", release, CHART_DIR, "--namespace", namespace, "--dry-run=server", "--kubeconfig", controlPlaneInfo().kubeconfigPath];
    const result = await runHelm(controlPlaneInfo().binaries.helm, [...args, ...(await valuesArgs(dir, values))], { env });
    return result.stdout;
  });
}

export function findObject(objects: readonly Rendered[], kind: string, name?: string): Rendered {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind}${name === undefined ? "" : ` ${name}`} in the rendered chart`);
  return found;
}

/** Runs kubectl against the shared control plane as admin; rejects with its stderr on failure. */
export async function kubectl(args: readonly string[], stdin?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", controlPlaneInfo().kubeconfigPath, ...args],
      { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`kubectl ${args.join(" ")} failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** `kubectl apply --dry-run=server`: the apiserver validates and admits every object without storing any. */
export async function dryRunApply(manifests: string): Promise<string[]> {
  const out = await kubectl(["apply", "--dry-run=server", "-o", "name", "-f", "-"], manifests);
  return out.split("\n").filter((line) => line !== "");
}
