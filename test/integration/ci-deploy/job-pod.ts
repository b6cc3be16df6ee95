// Plays the Job controller, which the test control plane lacks: creates a Job's pod from its template, owned by the Job.
import { BatchV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { kubeBody, type KubeClients } from "../support/index.ts";

/** The pod the Job controller would create for `job`: the template, the Job's labels and a controller owner reference. */
export async function createJobPod(clients: KubeClients, namespace: string, jobName: string, podName: string): Promise<V1Pod> {
  const job = await clients.kubeConfig.makeApiClient(BatchV1Api).readNamespacedJob({ namespace, name: jobName });
  const uid = job.metadata?.uid;
  const template = job.spec?.template;
  if (uid === undefined || template?.spec === undefined) throw new Error(`Job ${namespace}/${jobName} has no uid or pod template`);
  const pod = kubeBody<V1Pod>({
    metadata: {
      name: podName,
      namespace,
      labels: {
        ...template.metadata?.labels,
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": jobName,
        "controller-uid": uid,
        "job-name": jobName,
      },
      annotations: { ...template.metadata?.annotations },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: jobName, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: template.spec,
  });
  return clients.kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({ namespace, body: pod });
}
