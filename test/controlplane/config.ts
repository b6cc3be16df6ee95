// Reads the control plane's settings from the environment, once, at an entry point.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface ControlPlaneConfig {
  /** Where built binaries live, outside the repository: `<cacheDir>/bin/<name>-<version>`. */
  readonly cacheDir: string;
}

/** TESSERA_CACHE_DIR wins; otherwise XDG_CACHE_HOME/tessera; otherwise ~/.cache/tessera. */
export function loadControlPlaneConfig(env: NodeJS.ProcessEnv): ControlPlaneConfig {
  const explicit = env["TESSERA_CACHE_DIR"];
  if (explicit !== undefined && explicit !== "") return Object.freeze({ cacheDir: resolve(explicit) });
  const xdg = env["XDG_CACHE_HOME"];
  const base = xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache");
  return Object.freeze({ cacheDir: join(base, "tessera") });
}
