// Asks the sidecar for a token the way an application does: GET $TESSERA_ENDPOINT/v1/token with the guard header.
import { SIDECAR_GUARD_HEADER, SIDECAR_PATH_TOKEN } from "../../api/constants.ts";

export interface SidecarAnswer {
  readonly url: string;
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export async function askSidecar(endpoint: string, query: Readonly<Record<string, string>>): Promise<SidecarAnswer> {
  const url = `${endpoint}${SIDECAR_PATH_TOKEN}?${new URLSearchParams(query).toString()}`;
  const response = await fetch(url, { headers: { [SIDECAR_GUARD_HEADER]: "true" } });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { error: "not JSON", error_description: text.slice(0, 200) };
  }
  return { url, status: response.status, body };
}

/** The answer without its access token, for reports (the token is shown only as a preview). */
export function withoutToken(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { access_token: _token, ...rest } = body;
  return rest;
}
