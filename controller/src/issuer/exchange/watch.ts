// The re-issuance long-poll: a sidecar waits here, authenticated by its projected token, for its pod's entitlement to change.
import type { IncomingMessage, ServerResponse } from "node:http";
import { CHANGE_REASON_CHANGED, CHANGE_REASON_INITIAL } from "../../../../api/constants.ts";
import type { EntitlementChange } from "../../../../api/exchange.ts";
import type { EntitlementFeed } from "./entitlement-feed.ts";
import { isIssuerError } from "../errors.ts";
import { sendJson, sendOAuthError, type Handler } from "../http.ts";
import { checkPodBinding, type PodLookup } from "../subject/pod-lookup.ts";
import type { SubjectVerifier } from "../subject/subject-verifier.ts";

export interface WatchDeps {
  readonly verifier: SubjectVerifier;
  readonly pods: PodLookup;
  readonly feed: EntitlementFeed;
  /** How long to hold a poll open before answering 204 (the sidecar re-polls at once). */
  readonly holdMs?: number;
}

const POD_GONE = new Set(["PodNotFound", "PodUidMismatch", "PodTerminating", "PodServiceAccountMismatch"]);
const MAX_SINCE_CHARS = 256;

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9_.-]{1,16384})$/.exec(header);
  return match?.[1];
}

/** GET PATH_WATCH?since=VERSION */
export function createWatchHandler(deps: WatchDeps): Handler {
  const holdMs = deps.holdMs ?? 25_000;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const since = new URL(req.url ?? "/", "https://issuer.invalid").searchParams.get("since") ?? "";
    if (since.length > MAX_SINCE_CHARS) {
      sendOAuthError(res, "invalid_request", `since is longer than ${MAX_SINCE_CHARS} characters`);
      return;
    }
    const token = bearer(req);
    if (token === undefined) {
      res.setHeader("www-authenticate", "Bearer");
      sendOAuthError(res, "invalid_request", "send the pod's projected service-account token as Authorization: Bearer", 401);
      return;
    }
    let podUid: string;
    try {
      const identity = await deps.verifier.verify(token);
      const pod = checkPodBinding(identity, await deps.pods.get(identity.namespace, identity.pod.name));
      podUid = pod.uid;
    } catch (error) {
      if (isIssuerError(error) && POD_GONE.has(error.code)) {
        // 410: the pod is gone for good, the sidecar stops polling and drops its tokens.
        sendOAuthError(res, "invalid_grant", error.message, 410);
      } else if (isIssuerError(error)) {
        // A bad token is a 401 challenge (RFC 6750); an issuer that cannot verify it now (503) challenges nothing.
        const unauthorized = error.oauthError === "invalid_grant";
        if (unauthorized) res.setHeader("www-authenticate", "Bearer");
        sendOAuthError(res, error.oauthError, error.message, unauthorized ? 401 : undefined);
      } else {
        throw error;
      }
      return;
    }

    const current = deps.feed.version(podUid);
    if (current !== undefined && current !== since) {
      const change: EntitlementChange = { version: current, reason: since === "" ? CHANGE_REASON_INITIAL : CHANGE_REASON_CHANGED };
      sendJson(res, 200, change);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      abort.abort();
    }, holdMs);
    const onClose = (): void => {
      abort.abort();
    };
    res.on("close", onClose);
    try {
      const change = await deps.feed.waitForChange(podUid, since, abort.signal);
      if (res.destroyed || res.writableEnded) return;
      if (change === undefined) {
        res.writeHead(204, { "cache-control": "no-store" });
        res.end();
      } else {
        sendJson(res, 200, change);
      }
    } finally {
      clearTimeout(timer);
      res.off("close", onClose);
    }
  };
}
