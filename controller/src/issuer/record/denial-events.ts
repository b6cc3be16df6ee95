// Kubernetes Events on a pod for denied token requests: rate-limited per (pod, reason), never failing issuance.

import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Decision, DenialReason } from "../../policy/types.ts";
import type { DecisionRecorder } from "./decision-recorder.ts";
import { redact } from "./redaction.ts";
import { KeyedTokenBucket } from "./denial-event-limiter.ts";

/** Component name in Event.source / reportingController. */
export const EVENT_COMPONENT = "tessera-issuer";
/** Event action: what the issuer was doing when the denial happened. */
export const EVENT_ACTION = "IssueToken";
/** Longest Event message the apiserver keeps (core/v1 truncates at 1 KiB); cut ourselves so it reads well. */
const MAX_MESSAGE = 1000;

/** A denial to report on the pod. */
export interface DenialEvent {
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly reason: DenialReason;
  readonly message: string;
  readonly at: Date;
}

/** Where Events go: the apiserver in production. */
export interface EventSink {
  emit(event: DenialEvent): Promise<void>;
}

/** Writes core/v1 Events (shown by `kubectl describe pod` and `kubectl events`) through client-node. */
export class KubernetesEventSink implements EventSink {
  readonly #core: CoreV1Api;
  readonly #instance: string;

  /** `instance` names this replica (e.g. the controller pod name), recorded as the reporting instance. */
  constructor(options: { core: CoreV1Api; instance: string }) {
    this.#core = options.core;
    this.#instance = options.instance;
  }

  async emit(event: DenialEvent): Promise<void> {
    // Same naming as the kubelet's events: object name + a unique hex suffix from the time.
    const name = `${event.podName}.${(event.at.getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`;
    await this.#core.createNamespacedEvent({
      namespace: event.namespace,
      // client-node's model classes are plain data holders that its serializer reads field by field; a literal is
      // exactly what it expects, so the class-instance rule does not apply to them.
      /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment */
      body: {
        metadata: { name, namespace: event.namespace },
        involvedObject: { apiVersion: "v1", kind: "Pod", namespace: event.namespace, name: event.podName, uid: event.podUid },
        type: "Warning",
        reason: event.reason,
        message: event.message.slice(0, MAX_MESSAGE),
        action: EVENT_ACTION,
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: this.#instance,
        firstTimestamp: event.at,
        lastTimestamp: event.at,
        count: 1,
      },
      /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    });
  }
}

export interface DenialEventRecorderOptions {
  readonly sink: EventSink;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Events per (pod, reason) in a burst; default 1. */
  readonly burst?: number;
  /** Seconds before another Event for the same (pod, reason); default 300. */
  readonly refillSeconds?: number;
  /** (pod, reason) pairs remembered at most; default 10000. */
  readonly maxKeys?: number;
}

/** A DecisionRecorder that reports denials as Events on the pod, at most one per (pod, reason) per interval. */
export class DenialEventRecorder implements DecisionRecorder {
  readonly #sink: EventSink;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #limiter: KeyedTokenBucket;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: DenialEventRecorderOptions) {
    this.#sink = options.sink;
    this.#logger = options.logger;
    this.#now = options.now;
    this.#limiter = new KeyedTokenBucket({
      burst: options.burst ?? 1,
      refillSeconds: options.refillSeconds ?? 300,
      maxKeys: options.maxKeys ?? 10_000,
      now: options.now,
    });
  }

  record(decision: Decision): void {
    if (decision.allowed) return;
    const { pod, namespace } = decision.subject;
    if (!this.#limiter.take(`${pod.uid}/${decision.reason}`)) return;
    const message = redact(decision.message) as string;
    const event: DenialEvent = { namespace: namespace.name, podName: pod.name, podUid: pod.uid, reason: decision.reason, message, at: this.#now() };
    const written = this.#sink.emit(event).catch((error: unknown) => {
      this.#logger.warn(
        { namespace: event.namespace, pod: event.podName, reason: event.reason, err: error instanceof Error ? error.message : String(error) },
        "denial event not written",
      );
    });
    this.#pending.add(written);
    void written.finally(() => this.#pending.delete(written));
  }

  /** Resolves once every Event started so far was written or failed (for shutdown and tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
