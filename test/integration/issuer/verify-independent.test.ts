// PyJWT, not jose, verifies Tessera tokens from only the published discovery document and JWKS, across a key rotation.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_JWT } from "../../../api/constants.ts";
import type { TokenExchangeResponse } from "../../../api/exchange.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { loadControlPlaneConfig } from "../../controlplane/config.ts";
import { ensurePythonEnv } from "../../controlplane/python-env.ts";
import { createPod, createServiceAccount, freshNamespace, mintProjectedToken, waitFor } from "../support/index.ts";
import { exchange, startTestIssuer, type TestIssuer } from "./exchange-harness.ts";

const SCRIPT = join(import.meta.dirname, "verify_token.py");
const REQUIREMENTS = join(import.meta.dirname, "requirements.txt");

interface PyResult {
  readonly kid?: string;
  readonly alg?: string;
  readonly claims?: Record<string, unknown>;
  readonly error?: string;
}

function verifyWithPyJwt(python: string, issuer: TestIssuer, caFile: string, tokens: readonly string[]): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [SCRIPT, issuer.url, caFile, "payments"], (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`verify_token.py failed: ${stderr}`, { cause: error }));
        return;
      }
      resolve(JSON.parse(stdout) as PyResult[]);
    });
    child.stdin?.end(JSON.stringify(tokens));
  });
}

describe("independent verification with PyJWT", () => {
  let issuer: TestIssuer;
  let caFile: string;
  let subjectToken: string;
  let python: string;

  beforeAll(async () => {
    // PyJWT and cryptography, pinned, in a virtualenv cached beside the control-plane binaries.
    python = await ensurePythonEnv({ cacheDir: loadControlPlaneConfig(process.env).cacheDir, requirementsFile: REQUIREMENTS });
    const ns = await freshNamespace("pyjwt");
    const policy: TokenPolicy = {
      apiVersion: "tessera.dev/v1alpha1",
      kind: "TokenPolicy",
      metadata: { name: "api", namespace: ns, generation: 1 },
      spec: { owner: { team: "payments" }, subjects: { serviceAccounts: ["api"] }, audiences: ["payments"], ttlSeconds: 600 },
    };
    issuer = await startTestIssuer({ policies: [policy] });
    caFile = join(await mkdtemp(join(tmpdir(), "tessera-ca-")), "ca.pem");
    await writeFile(caFile, issuer.caPem);
    await createServiceAccount(ns, "api");
    const pod = await createPod(ns, { name: "api-0", serviceAccountName: "api" });
    subjectToken = await mintProjectedToken({ namespace: ns, serviceAccount: "api", pod, audience: "tessera.dev/issuer" });
  });

  afterAll(async () => {
    await issuer.stop();
  });

  async function mint(): Promise<string> {
    const answer = await exchange(issuer, {
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: TOKEN_TYPE_JWT,
      audience: "payments",
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return (answer.body as TokenExchangeResponse).access_token;
  }

  it("verifies tokens signed before and after a key rotation to EdDSA", async () => {
    const before = await mint();
    const [first] = await verifyWithPyJwt(python, issuer, caFile, [before]);
    expect(first?.error).toBeUndefined();
    expect(first).toMatchObject({ alg: "ES256", claims: { aud: "payments", iss: issuer.url } });

    // Rotate now: the successor is published first and signs a second later; the old key stays published.
    const keys = issuer.issuer.keys;
    const oldKid = keys.current().kid;
    await keys.rotate({
      algorithm: "EdDSA",
      rotationMs: 0,
      prePublicationMs: 1000,
      maxTokenTtlMs: 3_600_000,
      reloadMs: 0,
      leewayMs: 0,
    });
    await keys.reload();
    expect(keys.jwks().keys).toHaveLength(2);
    await waitFor(() => keys.current().kid !== oldKid, { description: "the successor key to sign" });

    const after = await mint();
    const results = await verifyWithPyJwt(python, issuer, caFile, [before, after]);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(results[0]?.kid).toBe(oldKid);
    expect(results[1]).toMatchObject({ alg: "EdDSA", kid: keys.current().kid });
  });

  it("rejects a token whose signature was tampered with", async () => {
    const token = await mint();
    const parts = token.split(".");
    const payload = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    const forged = [parts[0], Buffer.from(JSON.stringify({ ...payload, sub: "system:serviceaccount:kube-system:admin" })).toString("base64url"), parts[2]].join(".");
    const [result] = await verifyWithPyJwt(python, issuer, caFile, [forged]);
    expect(result?.error).toMatch(/Signature/);
  });
});
