/** Publishing job and worker events to the events queue, never holding up the job that sends them. */
import type { JobEvent, JobRef } from "../queue/messages.js";
import type { QueueBackend } from "../queue/types.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";

/** The line `hangar queue inspect` shows for an event. */
export function describeEvent(event: JobEvent): string {
  const job = (ref: JobRef) => `${ref.slug} attempt ${ref.attempt}`;
  switch (event.type) {
    case "queued":
      return `queued ${job(event.job)}`;
    case "leased":
      return `leased ${job(event.job)} by ${event.worker}`;
    case "started":
      return `started ${job(event.job)} on ${event.worker}`;
    case "finished":
      return `${event.state} ${job(event.job)} on ${event.worker}: ${event.result}`;
    case "worker":
      return `heartbeat of ${event.worker.name} (${event.worker.running.length} running)`;
    case "tick":
      return `tick of recorder ${event.recorder}`;
  }
}

export class JobEventPublisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly queue: QueueBackend,
    readonly queueName: string,
    private readonly logger: Logger,
  ) {}

  /** Durable once the returned promise resolves; a failure is logged, never thrown. */
  publish(event: JobEvent): Promise<void> {
    const body = JSON.stringify({ event, human: describeEvent(event) });
    const sent = this.queue.publish(this.queueName, body).catch((error: unknown) => {
      this.logger.warn({ err: errorMessage(error), event: event.type }, "could not publish a job event");
    });
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
    return sent;
  }

  /** Resolves once every event published so far is settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

export const now = (): string => new Date().toISOString();
