export { JobDatabase, type SilentJob } from "./database.js";
export { describeEvent, JobEventPublisher } from "./events.js";
export { doneKey, isDone, isRetired, markDone, retire, retiredKey } from "./fence.js";
export { type RecorderOptions, type RunningRecorder, startRecorder } from "./recorder.js";
export { type NextAttempt, queueNextAttempt } from "./requeue.js";
export type * from "./types.js";
