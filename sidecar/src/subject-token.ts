// The pod's projected service-account token, read from its file on every use because the kubelet rotates it in place.
import type { readFile as ReadFile } from "node:fs/promises";
import { SidecarError } from "./errors.ts";
import { readJwtExpiry } from "./jwt-payload.ts";

/** A subject token as read just now; never kept by callers past one exchange or one watch request. */
export interface SubjectToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export interface SubjectTokenSource {
  /** Reads the file now; throws SidecarError SUBJECT_TOKEN_{MISSING,UNREADABLE,MALFORMED,EXPIRED}. */
  read(): Promise<SubjectToken>;
}

export interface SubjectTokenFileOptions {
  readonly path: string;
  readonly readFile: typeof ReadFile;
  readonly now: () => Date;
}

/** Projected tokens are small; anything larger is not a token and is refused before parsing. */
const MAX_TOKEN_BYTES = 16 * 1024;

export function subjectTokenFile(options: SubjectTokenFileOptions): SubjectTokenSource {
  const { path, readFile, now } = options;
  return {
    async read() {
      let raw: string;
      try {
        raw = await readFile(path, { encoding: "utf8" });
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          throw new SidecarError("SUBJECT_TOKEN_MISSING", `subject token file ${path} does not exist`, { cause });
        }
        throw new SidecarError("SUBJECT_TOKEN_UNREADABLE", `subject token file ${path} cannot be read (${code ?? "error"})`, {
          cause,
        });
      }
      const token = raw.trim();
      if (token.length === 0 || token.length > MAX_TOKEN_BYTES) {
        throw new SidecarError("SUBJECT_TOKEN_MALFORMED", `subject token file ${path} is empty or too large`);
      }
      const expiresAt = readJwtExpiry(token);
      if (expiresAt === undefined) {
        throw new SidecarError("SUBJECT_TOKEN_MALFORMED", `subject token file ${path} does not hold a JWT with exp`);
      }
      if (expiresAt.getTime() <= now().getTime()) {
        throw new SidecarError(
          "SUBJECT_TOKEN_EXPIRED",
          `subject token in ${path} expired at ${expiresAt.toISOString()}; the kubelet has not rotated it`,
        );
      }
      return { token, expiresAt };
    },
  };
}
