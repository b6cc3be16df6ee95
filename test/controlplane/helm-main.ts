// `npm run helm -- <args>`: runs the cached helm (built from its Go module on first use) with the given arguments.
import { spawn } from "node:child_process";
import { ensureBinaries } from "./build.ts";
import { loadControlPlaneConfig } from "./config.ts";

const config = loadControlPlaneConfig(process.env);
try {
  const { helm } = await ensureBinaries({
    cacheDir: config.cacheDir,
    env: process.env,
    names: ["helm"],
    log: (line) => {
      console.error(line);
    },
  });
  const child = spawn(helm, process.argv.slice(2), { stdio: "inherit" });
  child.on("exit", (code, signal) => {
    process.exitCode = code ?? (signal !== null ? 1 : 0);
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
