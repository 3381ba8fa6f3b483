/**
 * A worker's capabilities: those its config asserts (`worker.capabilities`,
 * taken as given) plus those a probe proves on this host. A probe that says
 * no is logged with its reason; the worker then never consumes the queues of
 * contexts that need that capability.
 */
import type { HangarConfig } from "../../config/index.js";
import type { Logger } from "../../util/logger.js";
import { probeKvm } from "./kvm.js";
import { rememberedProbe } from "./remember.js";
import type { ProbeResult } from "./types.js";

export { findKernel, qemuGuestArgs } from "./guest.js";
export { busyboxInitramfs, cachedInitramfs, cpioArchive, markerInit } from "./initramfs.js";
export { KVM_MARKER, type KvmProbeOptions, probeKvm } from "./kvm.js";
export type { ProbeResult } from "./types.js";

export interface WorkerCapabilities {
  readonly capabilities: readonly string[];
  /** The probes that ran (a capability the config asserts is not probed). */
  readonly probes: readonly ProbeResult[];
}

export async function detectCapabilities(
  config: HangarConfig,
  options: {
    readonly cacheDir: string;
    readonly logger: Logger;
    /** Where probe results are shared by the workers of this host (default: in the temp dir). */
    readonly resultsDir?: string;
  },
): Promise<WorkerCapabilities> {
  const capabilities = new Set(config.worker.capabilities);
  const probes: ProbeResult[] = [];
  const kvm = config.worker.probes.kvm;
  if (kvm.enabled && !capabilities.has("kvm")) {
    const probeOptions = {
      cacheDir: options.cacheDir,
      timeoutMs: kvm.timeoutSeconds * 1000,
      qemu: kvm.qemu,
      ...(kvm.kernel ? { kernel: kvm.kernel } : {}),
    };
    const { result, cached } = await rememberedProbe(
      { probe: "kvm", ...probeOptions, cacheDir: undefined },
      () => probeKvm(probeOptions),
      options.resultsDir,
    );
    probes.push(result);
    options.logger.info(
      { capability: result.capability, available: result.available, reason: result.reason, cached },
      `capability probe: ${result.capability} ${result.available ? "yes" : "no"}`,
    );
  }
  for (const probe of probes) if (probe.available) capabilities.add(probe.capability);
  return { capabilities: [...capabilities].sort(), probes };
}
