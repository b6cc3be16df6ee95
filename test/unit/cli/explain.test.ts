// `tessera explain` argument handling: the two modes, their required flags, and the endpoint URL it asks.

import { describe, expect, it } from "vitest";
import { explainUrl, parseExplainArgs, runExplain } from "../../../controller/src/cli/explain.ts";

const remote = ["--issuer", "https://tessera.example", "--ca", "ca.pem", "--token-file", "token"];

describe("tessera explain arguments", () => {
  it("parses the issuer mode with repeated audiences, space-separated scopes and a delegation chain", () => {
    const chain = ["--actor", "system:serviceaccount:agents:searcher", "--actor", "system:serviceaccount:agents:planner"];
    expect(parseExplainArgs(["--namespace", "payments", "--pod", "api", "--audience", "a", "--audience", "b", "--scope", "x y", ...chain, ...remote])).toEqual({
      ok: true,
      help: false,
      namespace: "payments",
      pod: "api",
      audiences: ["a", "b"],
      scopes: ["x", "y"],
      actors: ["system:serviceaccount:agents:searcher", "system:serviceaccount:agents:planner"],
      json: false,
      target: { mode: "issuer", issuer: "https://tessera.example", caFile: "ca.pem", tokenFile: "token" },
    });
  });

  it("parses the kubeconfig mode", () => {
    expect(parseExplainArgs(["-n", "payments", "--pod", "api", "--kubeconfig", "kc", "--json", "--environment", "prod"])).toMatchObject({
      ok: true,
      json: true,
      target: { mode: "kubeconfig", kubeconfig: "kc", clusterName: "", environment: "prod" },
    });
  });

  it.each([
    ["no pod", ["--namespace", "n", ...remote], "--namespace and --pod are required"],
    ["no target", ["--namespace", "n", "--pod", "p"], "give --issuer, --ca and --token-file, or --kubeconfig"],
    ["both targets", ["--namespace", "n", "--pod", "p", "--kubeconfig", "kc", ...remote], "use either"],
    ["a plain-http issuer", ["--namespace", "n", "--pod", "p", "--issuer", "http://x", "--ca", "c", "--token-file", "t"], "https://"],
    ["an unknown flag", ["--namespace", "n", "--pod", "p", "--frobnicate"], "Unknown option"],
  ])("refuses %s", (_name, argv, message) => {
    const parsed = parseExplainArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });

  it("builds the endpoint URL with the query", () => {
    const url = explainUrl("https://tessera.example/", { namespace: "n", pod: "p", audiences: ["https://a.example"], scopes: ["x", "y"] });
    expect(url.toString()).toBe("https://tessera.example/v1/explain?namespace=n&pod=p&audience=https%3A%2F%2Fa.example&scope=x+y");
  });

  it("prints usage and exits 2 on bad arguments", async () => {
    let err = "";
    const code = await runExplain(["--pod", "p"], { stdout: () => undefined, stderr: (t) => (err += t), now: () => new Date(0) });
    expect(code).toBe(2);
    expect(err).toContain("Usage: tessera explain");
  });
});
