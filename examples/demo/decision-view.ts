// A decision record as logged by the issuer, reduced to the lines a person reads first (pure).

function text(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `decisionId`, outcome, policy, grant or reason, one line per policy selecting the subject, and how many did not. */
export function decisionLines(decision: Readonly<Record<string, unknown>>): string {
  const out = [`decisionId  ${text(decision["decisionId"])}`, `at          ${text(decision["at"])}`];
  const policy = record(decision["policy"]);
  const policyText = policy["ref"] === undefined ? "" : `${text(policy["ref"])} (generation ${text(policy["generation"])})`;
  if (decision["allowed"] === true) {
    const granted = record(decision["granted"]);
    out.push(`allowed     by ${policyText}`);
    out.push(`granted     aud ${text(granted["audiences"])}, scope ${text(granted["scopes"])}, ttl ${text(granted["ttlSeconds"])} s`);
    out.push(`claims      ${text(granted["claims"])}`);
    const clamps = decision["clamps"];
    if (Array.isArray(clamps) && clamps.length > 0) out.push(`clamps      ${text(clamps)}`);
  } else {
    const by = decision["deniedBy"] === undefined ? "" : ` (said by the ${text(decision["deniedBy"])})`;
    out.push(`denied      ${text(decision["reason"])}${policyText === "" ? "" : ` under ${policyText}`}${by}`);
    out.push(`message     ${text(decision["message"])}`);
  }
  const owners = Array.isArray(decision["audienceOwners"]) ? decision["audienceOwners"].map(record) : [];
  for (const o of owners) {
    const contract = o["contract"] === undefined ? "" : ` ${text(o["contract"])} (team ${text(o["ownerTeam"])}${o["ownerContact"] === undefined ? "" : `, ${text(o["ownerContact"])}`})`;
    const admitted = o["scopesAdmitted"] === undefined ? "" : `, admits ${text(o["scopesAdmitted"])}`;
    out.push(`owner       ${text(o["audience"])}: ${text(o["ownedBy"])}${contract}${admitted}`);
  }
  const evaluations = Array.isArray(decision["evaluations"]) ? decision["evaluations"].map(record) : [];
  for (const e of evaluations) {
    const failed = Array.isArray(e["conditionsFailed"]) && e["conditionsFailed"].length > 0 ? `, failed ${text(e["conditionsFailed"])}` : "";
    const skipped = e["skippedBecause"] === undefined ? "" : `, skipped: ${text(e["skippedBecause"])}`;
    out.push(`evaluated   ${text(e["policy"])}: selected ${text(e["selected"])}, audience ${e["audienceAllowed"] === true ? "allowed" : "not allowed"}${failed}${skipped}`);
  }
  const notSelecting = decision["notSelecting"];
  if (typeof notSelecting === "number" && notSelecting > 0) out.push(`not chosen  ${notSelecting} more ${notSelecting === 1 ? "policy does" : "policies do"} not select this subject`);
  return out.join("\n");
}
