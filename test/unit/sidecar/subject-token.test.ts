// Subject token file: read fresh on every call (rotation), with a clear code when missing, unreadable, malformed or expired.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SidecarError } from "../../../sidecar/src/errors.ts";
import { subjectTokenFile } from "../../../sidecar/src/subject-token.ts";
import { fakeJwt, manualClock } from "./helpers.ts";

let dir: string;
const clock = manualClock(Date.UTC(2026, 0, 1));
const nowS = Math.floor(clock.ms() / 1000);

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-subject-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SidecarError);
    return (err as SidecarError).code;
  }
  throw new Error("expected a SidecarError");
}

describe("subjectTokenFile", () => {
  it("reads the token and its exp, and picks up a rotated file on the next read", async () => {
    const file = path.join(dir, "token");
    const source = subjectTokenFile({ path: file, readFile: fs.readFile, now: clock.now });
    const first = fakeJwt(nowS + 3600, "first");
    await fs.writeFile(file, `${first}\n`);
    expect(await source.read()).toEqual({ token: first, expiresAt: new Date((nowS + 3600) * 1000) });
    const second = fakeJwt(nowS + 7200, "second");
    await fs.writeFile(`${file}.new`, second);
    await fs.rename(`${file}.new`, file);
    expect((await source.read()).token).toBe(second);
  });

  it.each([
    ["missing", async (_file: string) => {}, "SUBJECT_TOKEN_MISSING"],
    ["a directory", async (file: string) => fs.mkdir(file), "SUBJECT_TOKEN_UNREADABLE"],
    ["empty", async (file: string) => fs.writeFile(file, "\n"), "SUBJECT_TOKEN_MALFORMED"],
    ["not a JWT", async (file: string) => fs.writeFile(file, "hello"), "SUBJECT_TOKEN_MALFORMED"],
    ["a JWT without exp", async (file: string) => fs.writeFile(file, `${Buffer.from("{}").toString("base64url")}.${Buffer.from("{}").toString("base64url")}.x`), "SUBJECT_TOKEN_MALFORMED"],
    ["expired", async (file: string) => fs.writeFile(file, fakeJwt(nowS, "old")), "SUBJECT_TOKEN_EXPIRED"],
  ])("fails with a clear code when the file is %s", async (_case, prepare, code) => {
    const file = path.join(dir, "token");
    await prepare(file);
    expect(await codeOf(subjectTokenFile({ path: file, readFile: fs.readFile, now: clock.now }).read())).toBe(code);
  });

  it("never mentions the token in its errors", async () => {
    const file = path.join(dir, "token");
    const secret = fakeJwt(nowS - 10, "secret-marker");
    await fs.writeFile(file, secret);
    try {
      await subjectTokenFile({ path: file, readFile: fs.readFile, now: clock.now }).read();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
      expect((err as Error).message).not.toContain(secret.split(".")[1]);
    }
  });
});
