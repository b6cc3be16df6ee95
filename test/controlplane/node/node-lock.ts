// One node tier per machine at a time: the bridge, the pod network, the kubelet's cgroups and the kernel settings it
// changes are machine-wide. The lock is a directory (mkdir is atomic) holding the owner's pid.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ControlPlaneError } from "../errors.ts";

export const NODE_LOCK_DIR = "/run/tessera-node.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ownerPid(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(lockDir, "pid"), "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface NodeLock {
  release(): Promise<void>;
}

/** Takes the lock, waiting up to `waitMs` for a live owner; a dead owner's lock is taken over. */
export async function acquireNodeLock(
  log: (line: string) => void,
  waitMs: number,
  lockDir: string = NODE_LOCK_DIR,
): Promise<NodeLock> {
  const deadline = Date.now() + waitMs;
  let said = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, "pid"), String(process.pid));
      return { release: () => rm(lockDir, { recursive: true, force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = await ownerPid(lockDir);
    // No pid yet may mean the owner is between mkdir and writeFile: wait for it like for a live owner.
    if (owner !== undefined && !isAlive(owner)) {
      log(`taking over the node lock of ended process ${owner}`);
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ControlPlaneError(
        "NODE_BUSY",
        `another node tier (pid ${String(owner)}) holds ${lockDir}; waited ${Math.round(waitMs / 1000)} s`,
      );
    }
    if (!said) {
      log(`waiting for the node tier of process ${String(owner)} to finish`);
      said = true;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
  }
}
