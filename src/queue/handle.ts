/** The part every backend shares: run a consumer's handler and requeue what it left unsettled. */
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import type { Delivery, DeliveryHandler } from "./types.js";

export interface HandledDelivery extends Delivery {
  readonly settled: boolean;
}

/**
 * Runs `handler` on `delivery`; an entry the handler neither acked nor nacked
 * goes back to the queue. `stillOurs` says whether the backend can still
 * settle it (after a lost channel or a closed queue the entry is already back).
 */
export async function handleDelivery(
  handler: DeliveryHandler,
  delivery: HandledDelivery,
  logger: Logger,
  stillOurs: () => boolean,
): Promise<void> {
  const about = { queue: delivery.queue, delivery: delivery.id };
  let failure: unknown;
  try {
    await handler(delivery);
  } catch (error) {
    failure = error;
  }
  if (delivery.settled) {
    if (failure !== undefined)
      logger.warn({ ...about, error: errorMessage(failure) }, "handler failed after settling");
    return;
  }
  if (!stillOurs()) return;
  if (failure === undefined) logger.warn(about, "handler returned without settling; requeueing");
  else logger.warn({ ...about, error: errorMessage(failure) }, "handler failed; requeueing");
  try {
    await delivery.nack({ requeue: true });
  } catch (error) {
    logger.warn({ ...about, error: errorMessage(error) }, "requeueing failed");
  }
}
