// Whether the apiserver supports native sidecars (init containers with restartPolicy Always), from its /version.

/** Kubernetes 1.29 turned SidecarContainers on by default (beta); 1.33 made it GA. */
const NATIVE_SIDECARS_SINCE = { major: 1, minor: 29 } as const;

/**
 * Reads `major` and `minor` of a /version body; providers append suffixes ("29+"), which are ignored.
 * Anything unreadable answers false: a regular sidecar works everywhere.
 */
export function supportsNativeSidecars(version: unknown): boolean {
  if (typeof version !== "object" || version === null) return false;
  const { major, minor } = version as { major?: unknown; minor?: unknown };
  const majorNumber = typeof major === "string" ? Number.parseInt(major, 10) : Number.NaN;
  const minorNumber = typeof minor === "string" ? Number.parseInt(minor, 10) : Number.NaN;
  if (Number.isNaN(majorNumber) || Number.isNaN(minorNumber)) return false;
  return majorNumber > NATIVE_SIDECARS_SINCE.major || (majorNumber === NATIVE_SIDECARS_SINCE.major && minorNumber >= NATIVE_SIDECARS_SINCE.minor);
}
