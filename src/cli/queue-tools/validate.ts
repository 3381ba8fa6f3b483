/** What `hangar queue publish` accepts: the wire format of the target queue, checked before publishing. */
import { z } from "zod";
import { BadEntryError, jobSchema, parseEntry, webhookEnvelopeSchema } from "../../queue/messages.js";
import type { QueueKind } from "../../queue/types.js";

// The two shapes of a task entry, checked separately so an error names the bad field
// (a union would only say that neither shape matched).
const jobEntrySchema = z.object({ job: jobSchema, human: z.string().optional() }).loose();
const commandEntrySchema = z.object({ command: z.string().min(1) }).loose();
const anyObjectSchema = z.record(z.string(), z.unknown());

/** Throws BadEntryError naming the first bad field. */
export function validateEntry(kind: QueueKind, body: Buffer, queue: string): void {
  switch (kind) {
    case "webhook":
      parseEntry(webhookEnvelopeSchema, body, queue);
      return;
    case "task": {
      const value = parseEntry(anyObjectSchema, body, queue);
      if ("job" in value || !("command" in value)) parseEntry(jobEntrySchema, body, queue);
      else parseEntry(commandEntrySchema, body, queue);
      return;
    }
    case "statistics":
      parseEntry(anyObjectSchema, body, queue);
      return;
  }
}

export { BadEntryError };
