// choosePolicy: the first stage of decide, which admission previews with alone; it must agree with decide.
import { describe, expect, it } from "vitest";
import { choosePolicy, compilePolicy, decide, PolicySet, rejectionOf, type Subject, type TokenRequest } from "../../../controller/src/policy/index.ts";
import { NOW, clusterPolicy, compiled, policySet, request, saActor, subject, tokenPolicy, OPEN_EVERY_AUDIENCE } from "./fixtures.ts";

const LEDGER = "https://ledger.internal";
const broken = compilePolicy(tokenPolicy("broken", { claims: [{ name: "t", expression: "namspace.name" }] }));
if (broken.ok) throw new Error("expected a compile error");

describe("choosePolicy agrees with decide", () => {
  it.each<[string, PolicySet, Subject, TokenRequest, "chosen" | "denied"]>([
    ["no policy selects the subject", policySet(tokenPolicy("p", { subjects: { serviceAccounts: ["worker"] } })), subject(), request(), "denied"],
    ["the policy does not allow the audience", policySet(tokenPolicy("p")), subject(), request(["https://other"]), "denied"],
    ["no audience is requested", policySet(tokenPolicy("p")), subject(), request([]), "denied"],
    ["two equal policies both grant", policySet(tokenPolicy("a"), tokenPolicy("b")), subject(), request(), "denied"],
    ["only a policy that was not accepted could apply", PolicySet.from([compiled(OPEN_EVERY_AUDIENCE)], [rejectionOf(broken)]), subject(), request(), "denied"],
    ["a cluster policy selects the namespace", policySet(clusterPolicy("c", { subjects: { namespaceSelector: {} }, audiences: [LEDGER] })), subject(), request(), "chosen"],
    ["the chosen policy grants", policySet(tokenPolicy("p")), subject(), request(), "chosen"],
    ["a condition of the chosen policy fails", policySet(tokenPolicy("p", { conditions: [{ name: "prod-only", expression: 'cluster.environment == "prod"', message: "only in prod" }] })), subject({ environment: "dev" }), request(), "chosen"],
    ["a claim of the chosen policy fails to evaluate", policySet(tokenPolicy("p", { claims: [{ name: "tenant", expression: 'namespace.labels["missing"]' }] })), subject(), request(), "chosen"],
    ["an actor asks under the chosen policy without delegation", policySet(tokenPolicy("p")), subject({ actors: [saActor("agents", "planner")] }), request(), "chosen"],
    ["the chosen policy grants a reserved audience", policySet(clusterPolicy("baseline", { guardrails: { reservedAudiences: [LEDGER] } }), tokenPolicy("p")), subject(), request(), "chosen"],
  ])("when %s", (_name, policies, s, r, expected) => {
    const choice = choosePolicy(s, r, policies);
    const decision = decide({ subject: s, request: r, policies, now: NOW, id: "d-1" });
    expect(choice.chosen ? "chosen" : "denied").toBe(expected);
    // A denial met while choosing is decide's answer, word for word; once a policy is chosen, decide goes on with it.
    if (!choice.chosen) expect(decision).toMatchObject({ allowed: false, reason: choice.reason, message: choice.message, evaluations: choice.evaluations });
    else expect(decision.evaluations.map((e) => e.policy)).toEqual(choice.evaluations.map((e) => e.policy));
    if (choice.chosen && decision.allowed) expect(decision.policy).toBe(choice.policy.ref);
  });

  it("chooses without evaluating any CEL", () => {
    // A condition that throws when evaluated: choosing must not reach it.
    const policy = compiled(tokenPolicy("p", { conditions: [{ name: "owner", expression: 'pod.owner.kind == "Job"', message: "jobs only" }] }));
    const choice = choosePolicy(subject(), request(), PolicySet.from([policy]));
    expect(choice).toMatchObject({ chosen: true, evaluations: [{ selected: true, audienceAllowed: true, conditions: [] }] });
  });
});
