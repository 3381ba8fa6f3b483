/**
 * Counts every Forge call and its failures without touching the forge's
 * code: a proxy around it, so methods added to Forge later are counted too.
 */
import type { Forge } from "../forge/types.js";
import { recordGitHubCall } from "./registry.js";

/** Methods that are not API calls. */
const NOT_CALLS = new Set(["close"]);

export function instrumentForge<F extends Forge>(forge: F): F {
  return new Proxy(forge, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string" || NOT_CALLS.has(property))
        return value;
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          const result: unknown = await value.apply(target, args);
          recordGitHubCall(property, false);
          return result;
        } catch (error) {
          recordGitHubCall(property, true);
          throw error;
        }
      };
    },
  });
}
