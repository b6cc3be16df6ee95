// `tessera who-can AUDIENCE [SCOPE]`: which service accounts can obtain a token, from manifests or a live cluster.

import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import type { LoadedDocument, LoadProblem } from "./manifests/documents.ts";
import { loadYaml } from "./manifests/load.ts";
import { snapshotOf, type ClusterSnapshot } from "./manifests/snapshot.ts";
import { clusterSnapshot } from "./who-can/cluster-snapshot.ts";
import { formatWhoCan } from "./who-can/format.ts";
import { whoCan } from "./who-can/who-can.ts";

export const WHO_CAN_USAGE = `Usage: tessera who-can AUDIENCE [SCOPE] [-f DIR|FILE]... [--kubeconfig FILE] [--context NAME]
         [--cluster-name N] [--environment E] [--output table|json]

Lists the service accounts that can obtain a token for AUDIENCE (with SCOPE, or the default scopes), the policy
that grants it, the audience owner that admits it, and what must hold of the pod ("if ..."): conditions that read
the pod cannot be decided without one. Also lists accounts that ask for it and are refused, with the reason.
  -f DIR|FILE    decide from manifests (TokenPolicies, ClusterTokenPolicies, TokenAudiences, Namespaces,
                 ServiceAccounts); repeatable
  otherwise      decide from the live cluster of --kubeconfig/--context (default: KUBECONFIG or ~/.kube/config),
                 with list calls only
`;

export interface WhoCanIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
}

export type WhoCanArgs =
  | {
      readonly ok: true;
      readonly help: boolean;
      readonly audience: string;
      readonly scope?: string;
      readonly files: readonly string[];
      readonly kubeconfig?: string;
      readonly context?: string;
      readonly cluster: { readonly name: string; readonly environment: string };
      readonly json: boolean;
    }
  | { readonly ok: false; readonly message: string };

/** Parses the subcommand's arguments (after "who-can"); pure. */
export function parseWhoCanArgs(argv: readonly string[]): WhoCanArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        kubeconfig: { type: "string" },
        context: { type: "string" },
        "cluster-name": { type: "string" },
        environment: { type: "string" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const v = parsed.values;
  const common = { cluster: { name: v["cluster-name"] ?? "", environment: v.environment ?? "" }, json: v.output === "json", files: v.filename ?? [] };
  if (v.help === true) return { ok: true, help: true, audience: "", ...common };
  if (v.output !== undefined && v.output !== "table" && v.output !== "json") return { ok: false, message: "--output must be table or json" };
  const [audience, scope, ...extra] = parsed.positionals;
  if (audience === undefined) return { ok: false, message: "name an audience" };
  if (extra.length > 0) return { ok: false, message: `unexpected argument '${extra[0] ?? ""}': ask for one scope at a time` };
  if (common.files.length > 0 && (v.kubeconfig !== undefined || v.context !== undefined)) {
    return { ok: false, message: "use either -f (manifests) or --kubeconfig/--context (a live cluster)" };
  }
  return {
    ok: true,
    help: false,
    audience,
    ...(scope === undefined ? {} : { scope }),
    ...(v.kubeconfig === undefined ? {} : { kubeconfig: v.kubeconfig }),
    ...(v.context === undefined ? {} : { context: v.context }),
    ...common,
  };
}

/** Runs `tessera who-can`; returns the exit code (0 answered, 1 could not answer, 2 usage). */
export async function runWhoCan(argv: readonly string[], io: WhoCanIo): Promise<number> {
  const args = parseWhoCanArgs(argv);
  if (!args.ok) {
    io.stderr(`tessera who-can: ${args.message}\n\n${WHO_CAN_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout(WHO_CAN_USAGE);
    return 0;
  }
  let snapshot: ClusterSnapshot;
  const loadProblems: LoadProblem[] = [];
  try {
    if (args.files.length > 0) {
      const documents: LoadedDocument[] = [];
      for (const file of args.files) {
        const loaded = await loadYaml(file);
        documents.push(...loaded.documents);
        loadProblems.push(...loaded.problems);
      }
      const found = snapshotOf(documents);
      snapshot = found.snapshot;
      loadProblems.push(...found.problems);
    } else {
      const kubeConfig = new KubeConfig();
      if (args.kubeconfig === undefined) kubeConfig.loadFromDefault();
      else kubeConfig.loadFromFile(args.kubeconfig);
      if (args.context !== undefined) kubeConfig.setCurrentContext(args.context);
      snapshot = await clusterSnapshot(kubeConfig);
    }
  } catch (error) {
    io.stderr(`tessera who-can: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const report = whoCan(snapshot, { audience: args.audience, ...(args.scope === undefined ? {} : { scope: args.scope }), cluster: args.cluster }, io.now());
  if (!report.ok) {
    io.stderr(`tessera who-can: ${report.message}\n`);
    return 1;
  }
  const withLoad = { ...report, problems: [...loadProblems, ...report.problems] };
  io.stdout(args.json ? `${JSON.stringify(withLoad, null, 2)}\n` : formatWhoCan(withLoad));
  return 0;
}
