// Step 4: plays the kubelet for the injected sidecar (its volumes, written locally) and starts it with the injected environment.
import { createServer } from "node:net";
import { join } from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import {
  ENV_APP_ENDPOINT,
  ENV_ISSUER_CA_FILE,
  ENV_SIDECAR_PORT,
  ENV_TOKENS,
  LABEL_MANAGED_BY,
  MANAGED_BY_TESSERA,
  PATH_READYZ,
  SIDECAR_CONTAINER_NAME,
  VOLUME_ISSUER_CA,
} from "../../../api/constants.ts";
import { freeLoopbackPort } from "../../../test/controlplane/ports.ts";
import { startProgram, tsxCommand, type Program } from "../program.ts";
import { DemoStepError, type StepResult } from "../runner.ts";
import { remapSidecarEnv, type RemappedVar } from "../sidecar-env.ts";
import { materializeVolumes } from "../volumes.ts";
import { waitUntil } from "../wait.ts";
import type { DemoContext } from "./context.ts";

export interface RunningSidecar {
  readonly program: Program;
  /** The application's TESSERA_ENDPOINT. */
  readonly endpoint: string;
  /** The first configured token's name and audience (from TESSERA_TOKENS). */
  readonly tokenName: string;
  readonly tokenAudience: string;
  /** The issuer CA file the sidecar trusts, as written for it. */
  readonly caFile: string;
}

function sidecarOf(pod: V1Pod): V1Container {
  const container = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === SIDECAR_CONTAINER_NAME);
  if (container === undefined) throw new DemoStepError(`the stored pod has no ${SIDECAR_CONTAINER_NAME} container`);
  return container;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => {
      resolve(false);
    });
    server.listen(port, "127.0.0.1", () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * The issuer CA the injected volume mounts comes from a ConfigMap in the pod's namespace. The controller publishes
 * it there (the serving Secret's CA bundle, labelled as Tessera's) as soon as the namespace holds an opted-in pod;
 * the demo only waits for it, like a kubelet waiting to mount the volume.
 */
async function waitForPublishedIssuerCa(ctx: DemoContext, pod: V1Pod, caPem: string): Promise<string | undefined> {
  const source = (pod.spec?.volumes ?? []).find((v) => v.name === VOLUME_ISSUER_CA)?.configMap;
  if (source?.name === undefined) return undefined;
  const namespace = pod.metadata?.namespace ?? "";
  const name = source.name;
  const key = source.items?.[0]?.key ?? "ca.crt";
  await waitUntil(
    async () => {
      const found = await ctx.core.readNamespacedConfigMap({ namespace, name }).catch(() => undefined);
      return found?.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_TESSERA && found.data?.[key] === caPem ? true : undefined;
    },
    { what: `the controller to publish ConfigMap ${namespace}/${name} with the issuer CA`, timeoutMs: 30_000, intervalMs: 100 },
  );
  return `${namespace}/${name}`;
}

export async function startSidecar(ctx: DemoContext, pod: V1Pod, caPem: string): Promise<StepResult<RunningSidecar>> {
  const container = sidecarOf(pod);
  const published = await waitForPublishedIssuerCa(ctx, pod, caPem);
  // The pod is re-read: the kubelet works from the stored object (with its uid, to bind the token to it).
  const stored = await ctx.core.readNamespacedPod({ namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" });
  const volumes = await materializeVolumes(ctx.core, stored, container, join(ctx.tempDir, "volumes"));
  const remap = remapSidecarEnv(container.env ?? [], container.volumeMounts ?? [], new Map(volumes.map((v) => [v.name, v.dir])));
  const env: Record<string, string> = { ...remap.env };
  const remapped: (RemappedVar & { why: string })[] = remap.remapped.map((r) => ({ ...r, why: "volume mounted here in the pod" }));
  // The issuer URL needs no change: the controller was started with this machine's address as its public URL,
  // so what the webhook injected already reaches it. The port is the pod's own network namespace's; on a shared
  // machine it can be taken, and only then is it moved (and the application's endpoint with it).
  const injectedPort = Number(env[ENV_SIDECAR_PORT] ?? "0");
  let port = injectedPort;
  if (!(await portIsFree(injectedPort))) {
    port = await freeLoopbackPort();
    env[ENV_SIDECAR_PORT] = String(port);
    remapped.push({ name: ENV_SIDECAR_PORT, injected: String(injectedPort), local: String(port), why: "port in use on this machine" });
  }
  const tokens = JSON.parse(env[ENV_TOKENS] ?? "[]") as { name?: string; audience?: string }[];
  const tokenName = tokens[0]?.name;
  const tokenAudience = tokens[0]?.audience;
  if (tokenName === undefined || tokenAudience === undefined) throw new DemoStepError(`the webhook injected no tokens (${ENV_TOKENS} is empty)`);
  const app = (stored.spec?.containers ?? []).find((c) => c.name !== SIDECAR_CONTAINER_NAME);
  const injectedEndpoint = app?.env?.find((e) => e.name === ENV_APP_ENDPOINT)?.value;
  if (injectedEndpoint === undefined) throw new DemoStepError(`the application container has no ${ENV_APP_ENDPOINT}`);
  const endpointUrl = new URL(injectedEndpoint);
  if (port !== injectedPort) endpointUrl.port = String(port);
  const endpoint = endpointUrl.toString().replace(/\/$/, "");

  const program = startProgram({ name: "sidecar", ...tsxCommand(ctx.repoRoot, "sidecar/src/main.ts"), env: { PATH: process.env["PATH"] ?? "", ...env } });
  ctx.cleanup.add("stopped the sidecar", () => program.stop());
  const started = ctx.now();
  await waitUntil(async () => ((await fetch(`http://127.0.0.1:${String(port)}${PATH_READYZ}`)).status === 200 ? true : undefined), {
    what: "the sidecar's first token (/readyz)",
    timeoutMs: 30_000,
    intervalMs: 100,
    explain: () => {
      const exit = program.exitDescription();
      return exit === undefined ? undefined : `the sidecar exited (${exit}):\n${program.tail()}`;
    },
  });
  const readyMs = ctx.now() - started;
  const caFile = env[ENV_ISSUER_CA_FILE] ?? "";
  return {
    value: { program, endpoint, tokenName, tokenAudience, caFile },
    rows: [
      ...(published === undefined ? [] : [{ label: "issuer CA", value: `ConfigMap ${published} (published by the controller from its webhook TLS Secret)` }]),
      { label: "volumes", value: volumes.map((v) => `${v.name} -> ${v.dir}\n  ${v.wrote}`).join("\n") },
      { label: "remapped env", value: remapped.map((r) => `${r.name}: ${r.injected} -> ${r.local} (${r.why})`).join("\n") },
      { label: "sidecar", value: `sidecar/src/main.ts on 127.0.0.1:${String(port)}, ready (first token held) after ${(readyMs / 1000).toFixed(1)} s` },
    ],
    data: {
      issuerCaConfigMap: published ?? null,
      volumes: volumes.map((v) => ({ name: v.name, dir: v.dir })),
      env,
      remapped,
      port,
      endpoint,
      readyMs,
    },
  };
}
