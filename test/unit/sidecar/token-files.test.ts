// Token files: atomic replacement in the same directory, exact mode, no leftovers, removal on withdrawal.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SidecarError } from "../../../sidecar/src/errors.ts";
import { TOKEN_FILE_MODE, tokenFiles } from "../../../sidecar/src/token-files.ts";

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-files-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("tokenFiles", () => {
  it("writes the token with mode 0640 regardless of the umask and leaves no temp file", async () => {
    const old = process.umask(0o000);
    try {
      await tokenFiles({ dir }).write("payments", "token-1");
    } finally {
      process.umask(old);
    }
    const stat = await fs.stat(path.join(dir, "payments"));
    expect(stat.mode & 0o777).toBe(TOKEN_FILE_MODE);
    expect(TOKEN_FILE_MODE & 0o007).toBe(0);
    expect(await fs.readFile(path.join(dir, "payments"), "utf8")).toBe("token-1");
    expect(await fs.readdir(dir)).toEqual(["payments"]);
  });

  it("replaces the file by rename, so an open reader keeps the old token and a new reader sees the new one", async () => {
    const files = tokenFiles({ dir });
    await files.write("payments", "token-1");
    const before = await fs.stat(path.join(dir, "payments"));
    const reader = await fs.open(path.join(dir, "payments"), "r");
    await files.write("payments", "token-2");
    const after = await fs.stat(path.join(dir, "payments"));
    // A new inode proves rename(2): the content was never rewritten in place.
    expect(after.ino).not.toBe(before.ino);
    expect(await reader.readFile("utf8")).toBe("token-1");
    await reader.close();
    expect(await fs.readFile(path.join(dir, "payments"), "utf8")).toBe("token-2");
    expect(await fs.readdir(dir)).toEqual(["payments"]);
  });

  it("reports a failed write with its code and cleans up", async () => {
    const missing = path.join(dir, "gone");
    let code: string | undefined;
    try {
      await tokenFiles({ dir: missing }).write("payments", "token-1");
    } catch (err) {
      code = (err as SidecarError).code;
      expect(err).toBeInstanceOf(SidecarError);
      expect((err as Error).message).not.toContain("token-1");
    }
    expect(code).toBe("TOKEN_FILE_WRITE_FAILED");
  });

  it("removes a withdrawn token and tolerates a missing one", async () => {
    const files = tokenFiles({ dir });
    await files.write("payments", "token-1");
    await files.remove("payments");
    await files.remove("payments");
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it("refuses names that would leave the directory", async () => {
    await expect(tokenFiles({ dir }).write("../x", "t")).rejects.toThrow(TypeError);
  });
});
