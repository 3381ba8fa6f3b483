/** The trust policy: whose PRs run automatically (and may see secrets). */
import type { HangarConfig } from "../config/index.js";
import type { Forge } from "../forge/types.js";

export async function isTrustedAuthor(config: HangarConfig, forge: Forge, author: string): Promise<boolean> {
  const { users, orgs } = config.trust;
  if (users.some((user) => user.toLowerCase() === author.toLowerCase())) return true;
  for (const org of orgs) {
    if (await forge.isOrgMember(org, author)) return true;
  }
  return false;
}
