/** Every subcommand of `hangar`. A command module exports `register(program)`. */
import type { Command } from "commander";
import { register as config } from "./config.js";
import { register as dashboard } from "./dashboard.js";
import { register as githubEmulator } from "./github-emulator.js";
import { register as image } from "./image.js";
import { register as local } from "./local.js";
import { register as queue } from "./queue.js";
import { register as scan } from "./scan.js";
import { register as secrets } from "./secrets.js";
import { register as serve } from "./serve.js";
import { register as trigger } from "./trigger.js";

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  local,
  serve,
  dashboard,
  config,
  trigger,
  scan,
  queue,
  secrets,
  image,
  githubEmulator,
];
