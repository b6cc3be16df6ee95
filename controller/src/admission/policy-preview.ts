// The narrow view admission has of the policy engine: would this pod get tokens for the audiences it asks for?

/** What is known about a pod at admission time (no uid or node yet; the name may still be generated). */
export interface PodPreviewInput {
  readonly namespace: string;
  /** The pod's name, or its generateName prefix when the name is not chosen yet. */
  readonly name: string;
  readonly serviceAccountName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly owner?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
}

/** Warnings for the person creating the pod; never a reason to refuse it (policies may come later). */
export interface PolicyPreview {
  preview(pod: PodPreviewInput, audiences: readonly string[]): Promise<{ warnings: string[] }> | { warnings: string[] };
}
