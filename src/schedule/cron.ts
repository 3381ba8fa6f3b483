/** When a schedule fires next: five-field cron expressions, read by cron-parser. */
import { CronExpressionParser } from "cron-parser";

/** The first time strictly after `after` that `cron` names, in `timezone` (UTC by default). */
export function nextRun(cron: string, after: Date, timezone = "UTC"): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timezone }).next().toDate();
}
