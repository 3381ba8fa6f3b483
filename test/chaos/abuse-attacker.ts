/**
 * The attacker in a process of its own, so its work does not slow the
 * legitimate deliveries measured beside it. fork() with argv KIND URL ARGS...;
 * sends the attack's outcome, then exits.
 */
import { type AttackOutcome, junkEvents, slowloris, unsignedBodies } from "./abuse-attacks.js";

const [kind, url, ...args] = process.argv.slice(2);
const numbers = args.map(Number);
if (url === undefined || process.send === undefined)
  throw new Error("usage: fork(abuse-attacker.js, [KIND, URL, ...])");

const attacks: Record<string, () => Promise<AttackOutcome>> = {
  "unsigned-bodies": () => unsignedBodies(url, numbers[0] ?? 1, numbers[1] ?? 1),
  slowloris: () => slowloris(url, numbers[0] ?? 1, numbers[1] ?? 1000),
  "junk-events": () => junkEvents(url, numbers[0] ?? 1, numbers[1] ?? 1),
};
const attack = attacks[kind ?? ""];
if (attack === undefined)
  throw new Error(`unknown attack ${kind}; known: ${Object.keys(attacks).join(", ")}`);
const outcome = await attack();
process.send(outcome, () => process.exit(0));
