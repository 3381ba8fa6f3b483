/** A transfer progress bar on a terminal; elsewhere the bytes just pass through. */
import { Transform, type TransformCallback } from "node:stream";

const REDRAW_MS = 100;
const WIDTH = 30;

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

export interface ProgressTarget {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** The bar's text for `done` of `total` bytes. */
export function progressLine(label: string, done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * WIDTH);
  const bar = `${"#".repeat(filled)}${".".repeat(WIDTH - filled)}`;
  return `${label} [${bar}] ${Math.floor(fraction * 100)
    .toString()
    .padStart(3)}% ${mib(done)}/${mib(total)} MiB`;
}

/** A pass-through stream that draws a bar on `target` when it is a terminal. */
export function progressMeter(
  label: string,
  total: number,
  target: ProgressTarget = process.stderr,
): Transform {
  let done = 0;
  let drawn = 0;
  const draw = () => target.write(`\r${progressLine(label, done, total)}`);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      done += chunk.length;
      if (target.isTTY && Date.now() - drawn >= REDRAW_MS) {
        drawn = Date.now();
        draw();
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (target.isTTY) {
        draw();
        target.write("\n");
      }
      callback();
    },
  });
}
