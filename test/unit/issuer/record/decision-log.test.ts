// Decision records: one constant-message JSON line per decision with the audit fields, never a token or key.

import { describe, expect, it } from "vitest";
import { DECISION_LOG_MESSAGE, DecisionLog, combineRecorders, policyLabel } from "../../../../controller/src/issuer/record/decision-log.ts";
import type { DecisionRecorder } from "../../../../controller/src/issuer/record/decision-recorder.ts";
import { captureLogger } from "../capture-logger.ts";
import { allowed, denied, jwtShaped, pemShaped } from "../decision-fixtures.ts";

describe("decision log", () => {
  it("writes one line for an allowed decision with the jti as decision id", () => {
    const captured = captureLogger();
    new DecisionLog({ logger: captured.logger }).record(allowed, { jti: "the-jti" });
    const lines = captured.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: DECISION_LOG_MESSAGE,
      decisionId: "the-jti",
      allowed: true,
      policy: { kind: "TokenPolicy", namespace: "payments", name: "ledger", generation: 3, ref: "TokenPolicy/payments/ledger" },
      requested: { audiences: ["https://ledger.example"], scopes: ["ledger.read"] },
      granted: { audiences: ["https://ledger.example"], scopes: ["ledger.read"], ttlSeconds: 300, claims: { tenant: "acme" } },
      clamps: ["ttl clamped to 300s by ClusterTokenPolicy/baseline"],
      subject: { serviceAccount: { namespace: "payments", name: "api" }, pod: { annotationKeys: ["tessera.dev/audiences"] } },
    });
    // The policy that does not select the subject (ClusterTokenPolicy/baseline) is counted, not listed.
    expect(lines[0]?.["evaluations"]).toEqual([
      { policy: "TokenPolicy/payments/ledger", generation: 3, selected: true, audienceAllowed: true, conditionsPassed: 1, conditionsFailed: [] },
    ]);
    expect(lines[0]?.["notSelecting"]).toBe(1);
  });

  it("keeps a record short however many policies do not select the subject", () => {
    const captured = captureLogger();
    const bystander = allowed.evaluations.find((e) => !e.selected);
    if (bystander === undefined) throw new Error("the fixture has a policy that does not select the subject");
    const many = Array.from({ length: 500 }, (_, i) => ({ ...bystander, policy: { ...bystander.policy, name: `other-${i}` } }));
    const log = new DecisionLog({ logger: captured.logger });
    log.record(allowed, { jti: "few" });
    log.record({ ...allowed, evaluations: [...allowed.evaluations, ...many] }, { jti: "many" });
    const [few, crowded] = captured.lines();
    expect(crowded?.["notSelecting"]).toBe(501);
    expect(crowded?.["evaluations"]).toEqual(few?.["evaluations"]);
    expect(JSON.stringify(crowded).length - JSON.stringify(few).length).toBeLessThan(16);
  });

  it("lists at most 128 annotation keys, however many the pod's creator gave it, and counts the rest", () => {
    const captured = captureLogger();
    const annotations = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${String(i)}`, ""]));
    const subject = { ...allowed.subject, pod: { ...allowed.subject.pod, annotations } };
    new DecisionLog({ logger: captured.logger }).record({ ...allowed, subject }, { jti: "many" });
    const pod = (captured.lines()[0]?.["subject"] as { pod: { annotationKeys: string[]; annotationKeysOmitted: number } }).pod;
    expect(pod.annotationKeys).toHaveLength(128);
    expect(pod.annotationKeysOmitted).toBe(20_000 - 128);
  });

  it("writes the reason, message and failed conditions of a denial", () => {
    const captured = captureLogger();
    new DecisionLog({ logger: captured.logger }).record(denied, {});
    expect(captured.lines()[0]).toMatchObject({
      msg: DECISION_LOG_MESSAGE,
      decisionId: "decision-denied-1",
      allowed: false,
      reason: "ScopeNotAllowed",
      message: "scope ledger.write is not allowed by TokenPolicy/payments/ledger",
      evaluations: [{ conditionsFailed: ["production-only"] }],
    });
  });

  it("never writes a token or key that reached a claim, label or message", () => {
    const captured = captureLogger();
    const poisoned = {
      ...denied,
      message: `bad subject token ${jwtShaped}`,
      subject: { ...denied.subject, pod: { ...denied.subject.pod, labels: { key: pemShaped } } },
    };
    new DecisionLog({ logger: captured.logger }).record(poisoned, {});
    new DecisionLog({ logger: captured.logger }).record({ ...allowed, grant: { ...allowed.grant, claims: { t: jwtShaped } } }, { jti: "j" });
    const text = captured.text();
    expect(text).not.toContain("eyJ");
    expect(text).not.toContain("BEGIN PRIVATE KEY");
    expect(captured.lines()).toHaveLength(2);
  });

  it.each([
    [{ kind: "TokenPolicy" as const, namespace: "ns", name: "p" }, "TokenPolicy/ns/p"],
    [{ kind: "ClusterTokenPolicy" as const, name: "c" }, "ClusterTokenPolicy/c"],
  ])("spells the policy %j as %s", (ref, label) => {
    expect(policyLabel(ref)).toBe(label);
  });

  it("keeps recording when one of the combined recorders throws", () => {
    const captured = captureLogger();
    const seen: string[] = [];
    const failing: DecisionRecorder = {
      record() {
        throw new Error("boom");
      },
    };
    const counting: DecisionRecorder = {
      record(decision) {
        seen.push(decision.id);
      },
    };
    combineRecorders(captured.logger, [failing, counting]).record(denied, {});
    expect(seen).toEqual(["decision-denied-1"]);
    expect(captured.lines()[0]).toMatchObject({ msg: "decision recorder failed", err: "boom" });
  });
});
