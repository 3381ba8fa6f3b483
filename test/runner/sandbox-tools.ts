/** Whether this host has what the process sandbox needs (bwrap, util-linux, busybox for the tests). */
import { BUSYBOX } from "../fixtures/container-image.js";
import { hasCommand, readable, requireTools } from "../fixtures/tools.js";

/** Skip reason when the process sandbox's tools are missing (throws in CI). */
export function processSandboxToolsMissing(): string | false {
  return requireTools("the process sandbox", [
    ...["bwrap", "setpriv", "prlimit", "unshare"].map((tool) => (hasCommand(tool) ? undefined : tool)),
    readable(BUSYBOX) ? undefined : "busybox (busybox-static)",
  ]);
}
