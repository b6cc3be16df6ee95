// Token files for applications that read files: each write lands atomically (temp file + rename in the same dir).
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { SidecarError } from "./errors.ts";

/** Owner read/write, group read: the application container reads through the pod's fsGroup, nobody else can. */
export const TOKEN_FILE_MODE = 0o640;

export interface TokenFiles {
  /** Replaces `name` with `content` so a reader sees the old token or the new one, never a torn write. */
  write(name: string, content: string): Promise<void>;
  /** Removes `name` (the entitlement was withdrawn); missing files are fine. */
  remove(name: string): Promise<void>;
}

export interface TokenFilesOptions {
  readonly dir: string;
  readonly mode?: number;
}

export function tokenFiles(options: TokenFilesOptions): TokenFiles {
  const { dir } = options;
  const mode = options.mode ?? TOKEN_FILE_MODE;
  const target = (name: string): string => {
    // Names are validated by config; this guards against a future caller passing a path.
    if (name.includes("/") || name.startsWith(".")) throw new TypeError(`invalid token file name ${JSON.stringify(name)}`);
    return path.join(dir, name);
  };
  return {
    async write(name, content) {
      const final = target(name);
      // Same directory as the target so rename(2) is atomic; the leading dot keeps it out of globbing readers.
      const temp = path.join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        const handle = await fs.open(temp, "wx", mode);
        try {
          // open(2) applies the umask; set the mode explicitly so it is exactly what we promise.
          await handle.chmod(mode);
          await handle.writeFile(content, { encoding: "utf8" });
        } finally {
          await handle.close();
        }
        await fs.rename(temp, final);
      } catch (cause) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        const code = (cause as NodeJS.ErrnoException).code ?? "error";
        throw new SidecarError("TOKEN_FILE_WRITE_FAILED", `cannot write token file ${final} (${code})`, { cause });
      }
    },
    async remove(name) {
      await fs.rm(target(name), { force: true });
    },
  };
}
