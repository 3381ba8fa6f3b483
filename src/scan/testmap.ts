/** The test map: which contexts run for a repository's branch, and how. */
import { type ContextEntry, contextName, contextQueue, type HangarConfig } from "../config/index.js";
import { DEFAULT_PRIORITY } from "../queue/types.js";

export const MANUAL_BRANCH = "_manual";

/** A context with its settings resolved against the configuration. */
export interface ContextSpec {
  readonly name: string;
  readonly queue: string;
  readonly priority: number;
  readonly timeout: number;
  readonly secrets: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly command?: readonly string[];
  readonly container?: string;
  readonly capabilities: readonly string[];
  /** Whether a trusted job may use the network (default true; untrusted jobs never may). */
  readonly network: boolean;
  readonly manual: boolean;
}

function resolveContext(config: HangarConfig, entry: ContextEntry, manual: boolean): ContextSpec {
  if (typeof entry === "string") {
    return {
      name: entry,
      queue: contextQueue(config, entry),
      priority: DEFAULT_PRIORITY,
      timeout: config.worker.defaultTimeout,
      secrets: [],
      env: {},
      capabilities: [],
      network: true,
      manual,
    };
  }
  return {
    name: entry.name,
    queue: contextQueue(config, entry),
    priority: entry.priority ?? DEFAULT_PRIORITY,
    timeout: entry.timeout ?? config.worker.defaultTimeout,
    secrets: entry.secrets ?? [],
    env: entry.env ?? {},
    ...(entry.command ? { command: entry.command } : {}),
    ...(entry.container ? { container: entry.container } : {}),
    capabilities: entry.capabilities ?? [],
    network: entry.network ?? true,
    manual,
  };
}

/** Contexts tested automatically on PRs against `branch` (none for unknown repos or branches). */
export function automaticContexts(config: HangarConfig, repo: string, branch: string): ContextSpec[] {
  if (branch === MANUAL_BRANCH) return [];
  const entries = config.projects[repo]?.branches[branch] ?? [];
  return entries.map((entry) => resolveContext(config, entry, false));
}

/** A context by name, for a direct trigger: the branch's contexts first, then `_manual` ones. */
export function findContext(
  config: HangarConfig,
  repo: string,
  branch: string | undefined,
  name: string,
): ContextSpec | undefined {
  const branches = config.projects[repo]?.branches ?? {};
  const automatic = branch === undefined ? [] : (branches[branch] ?? []);
  const found = automatic.find((entry) => contextName(entry) === name);
  if (found) return resolveContext(config, found, false);
  const manual = (branches[MANUAL_BRANCH] ?? []).find((entry) => contextName(entry) === name);
  return manual ? resolveContext(config, manual, true) : undefined;
}

/** Whether any branch of the repository's test map (`_manual` included) has the context. */
export function hasContext(config: HangarConfig, repo: string, name: string): boolean {
  const branches = Object.values(config.projects[repo]?.branches ?? {});
  return branches.some((entries) => entries.some((entry) => contextName(entry) === name));
}

export function isKnownProject(config: HangarConfig, repo: string): boolean {
  return config.projects[repo] !== undefined;
}
