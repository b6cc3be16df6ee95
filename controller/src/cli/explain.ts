// `tessera explain`: what a pod would get, and why; asks the issuer's explain endpoint, or evaluates locally with a kubeconfig.

import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { PATH_EXPLAIN } from "../../../api/constants.ts";
import type { ExplainReport } from "../issuer/explain/explainer.ts";
import { formatExplainReport } from "../issuer/explain/format.ts";
import { localExplainer } from "../issuer/explain/local.ts";

export const EXPLAIN_USAGE = `Usage: tessera explain --namespace NS --pod NAME [--audience A]... [--scope S]... [--actor SUB]... [--json]
         (--issuer URL --ca FILE --token-file FILE | --kubeconfig FILE [--cluster-name N --environment E])

Shows which policies match the pod, each condition's result, the guardrails, and the claims a token would carry.
Without --audience, explains every audience the pod's tessera.dev/audiences annotation names.
  --actor                     explain a delegated token: each actor acting for the pod, current actor first, as
                              system:serviceaccount:NAMESPACE:NAME; shows the chain and the rule that let each act
  --issuer/--ca/--token-file  ask the issuer's explain endpoint, authenticating with a service-account token
  --kubeconfig                read the pod and policies with your own credentials and evaluate locally
`;

export type ExplainArgs =
  | { readonly ok: true; readonly help: true }
  | {
      readonly ok: true;
      readonly help: false;
      readonly namespace: string;
      readonly pod: string;
      readonly audiences: readonly string[];
      readonly scopes: readonly string[];
      readonly actors: readonly string[];
      readonly json: boolean;
      readonly target:
        | { readonly mode: "issuer"; readonly issuer: string; readonly caFile: string; readonly tokenFile: string }
        | { readonly mode: "kubeconfig"; readonly kubeconfig: string; readonly clusterName: string; readonly environment: string };
    }
  | { readonly ok: false; readonly message: string };

/** Parses the subcommand's arguments (after "explain"); pure. */
export function parseExplainArgs(argv: readonly string[]): ExplainArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        namespace: { type: "string", short: "n" },
        pod: { type: "string" },
        audience: { type: "string", multiple: true },
        scope: { type: "string", multiple: true },
        actor: { type: "string", multiple: true },
        json: { type: "boolean" },
        issuer: { type: "string" },
        ca: { type: "string" },
        "token-file": { type: "string" },
        kubeconfig: { type: "string" },
        "cluster-name": { type: "string" },
        environment: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const v = parsed.values;
  if (v.help === true) return { ok: true, help: true };
  if (v.namespace === undefined || v.pod === undefined) return { ok: false, message: "--namespace and --pod are required" };
  const remote = [v.issuer, v.ca, v["token-file"]];
  const common = {
    ok: true as const,
    help: false as const,
    namespace: v.namespace,
    pod: v.pod,
    audiences: v.audience ?? [],
    scopes: (v.scope ?? []).flatMap((s) => s.split(/\s+/)).filter((s) => s !== ""),
    actors: v.actor ?? [],
    json: v.json === true,
  };
  if (v.kubeconfig !== undefined) {
    if (remote.some((x) => x !== undefined)) return { ok: false, message: "use either --kubeconfig or --issuer/--ca/--token-file" };
    return {
      ...common,
      target: { mode: "kubeconfig", kubeconfig: v.kubeconfig, clusterName: v["cluster-name"] ?? "", environment: v.environment ?? "" },
    };
  }
  if (v.issuer === undefined || v.ca === undefined || v["token-file"] === undefined) {
    return { ok: false, message: "give --issuer, --ca and --token-file, or --kubeconfig" };
  }
  if (!v.issuer.startsWith("https://")) return { ok: false, message: "--issuer must be an https:// URL" };
  return { ...common, target: { mode: "issuer", issuer: v.issuer, caFile: v.ca, tokenFile: v["token-file"] } };
}

/** The explain endpoint's URL for a query. */
export function explainUrl(
  issuer: string,
  q: { namespace: string; pod: string; audiences: readonly string[]; scopes: readonly string[]; actors?: readonly string[] },
): URL {
  const url = new URL(PATH_EXPLAIN, issuer.endsWith("/") ? issuer : `${issuer}/`);
  url.searchParams.set("namespace", q.namespace);
  url.searchParams.set("pod", q.pod);
  for (const audience of q.audiences) url.searchParams.append("audience", audience);
  if (q.scopes.length > 0) url.searchParams.set("scope", q.scopes.join(" "));
  for (const actor of q.actors ?? []) url.searchParams.append("actor", actor);
  return url;
}

/** GET over HTTPS trusting only `ca`; resolves with status and parsed JSON body. */
function getJson(url: URL, ca: string, token: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", ca, headers: { authorization: `Bearer ${token}`, accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { error: "invalid_response", error_description: text.slice(0, 200) } });
        }
      });
      res.on("error", reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error("the issuer did not answer within 30 s")));
    req.on("error", reject);
    req.end();
  });
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
}

/** Runs `tessera explain`; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runExplain(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseExplainArgs(argv);
  if (!args.ok) {
    io.stderr(`tessera explain: ${args.message}\n\n${EXPLAIN_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout(EXPLAIN_USAGE);
    return 0;
  }
  let report: ExplainReport;
  try {
    if (args.target.mode === "issuer") {
      const [ca, token] = await Promise.all([readFile(args.target.caFile, "utf8"), readFile(args.target.tokenFile, "utf8")]);
      const { status, body } = await getJson(explainUrl(args.target.issuer, args), ca, token.trim());
      if (status !== 200) {
        const error = body as { error?: string; error_description?: string };
        io.stderr(`tessera explain: the issuer answered ${status}: ${error.error ?? "?"}: ${error.error_description ?? ""}\n`);
        return 1;
      }
      report = body as ExplainReport;
    } else {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(args.target.kubeconfig);
      const cluster = { name: args.target.clusterName, environment: args.target.environment };
      const explainer = await localExplainer(kubeConfig, cluster, "(local evaluation)", io.now);
      report = await explainer.explain(args);
    }
  } catch (error) {
    io.stderr(`tessera explain: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatExplainReport(report));
  return 0;
}
