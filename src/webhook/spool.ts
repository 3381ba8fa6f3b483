/**
 * The durable spool: deliveries that could not be queued wait here, one file
 * each, until the queue takes them again. A file is written under tmp/,
 * fsync'd, then renamed into deliveries/ (and the directory fsync'd), so a
 * file in deliveries/ is always whole. Names sort in arrival order.
 * One spool directory belongs to one webhook process. Directories are 0700,
 * files 0600: they hold payloads.
 */
import { open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createPrivateDir, PRIVATE_FILE_MODE } from "../queue/sqlite/private-file.js";

const SUFFIX = ".delivery";
const NAME = /^(\d{16})-(\d{8})\.delivery$/;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class DeliverySpool {
  private readonly waiting: string[];
  private lastStamp: number;
  private lastSeq: number;

  private constructor(
    readonly dir: string,
    existing: string[],
  ) {
    this.waiting = existing;
    const last = NAME.exec(existing[existing.length - 1] ?? "");
    this.lastStamp = last ? Number(last[1]) : 0;
    this.lastSeq = last ? Number(last[2]) : 0;
  }

  /** Opens (creating) `dir`; files a crash left half-written under tmp/ are dropped, they were never acknowledged. */
  static async open(dir: string): Promise<DeliverySpool> {
    const deliveries = join(dir, "deliveries");
    await rm(join(dir, "tmp"), { recursive: true, force: true });
    createPrivateDir(join(dir, "tmp"));
    createPrivateDir(deliveries);
    const names = (await readdir(deliveries)).filter((name) => NAME.test(name)).sort();
    return new DeliverySpool(dir, names);
  }

  /** How many deliveries wait. */
  get size(): number {
    return this.waiting.length;
  }

  /** The oldest waiting delivery's name. */
  get head(): string | undefined {
    return this.waiting[0];
  }

  /** Writes a delivery durably; resolves with its name once it survives a crash. */
  async write(body: Buffer): Promise<string> {
    const name = this.nextName();
    const temporary = join(this.dir, "tmp", name);
    const handle = await open(temporary, "wx", PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(this.dir, "deliveries", name));
    await fsyncDir(join(this.dir, "deliveries"));
    // Concurrent writes may finish out of order; the list stays sorted by name.
    let at = this.waiting.length;
    while (at > 0 && (this.waiting[at - 1] as string) > name) at -= 1;
    this.waiting.splice(at, 0, name);
    return name;
  }

  read(name: string): Promise<Buffer> {
    return readFile(join(this.dir, "deliveries", name));
  }

  /** Removes a delivery once it is queued. */
  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, "deliveries", name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    const index = this.waiting.indexOf(name);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** Monotonic even when the clock steps back: the sequence number carries on. */
  private nextName(): string {
    const now = Date.now();
    if (now > this.lastStamp) {
      this.lastStamp = now;
      this.lastSeq = 0;
    } else {
      this.lastSeq += 1;
    }
    return `${String(this.lastStamp).padStart(16, "0")}-${String(this.lastSeq).padStart(8, "0")}${SUFFIX}`;
  }
}
