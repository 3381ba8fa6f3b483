/** The store part: open a backend by driver name; the rest of hangar sees only the Store interface. */
import { type FsStoreOptions, openFsStore } from "./fs.js";
import { openS3Store, type S3StoreOptions } from "./s3.js";
import type { Store } from "./types.js";

export type StoreOptions =
  | ({ readonly driver: "fs" } & FsStoreOptions)
  | ({ readonly driver: "s3" } & S3StoreOptions);

type Driver = StoreOptions["driver"];
type StoreFactory<D extends Driver> = (options: Extract<StoreOptions, { driver: D }>) => Promise<Store>;

/** One factory per driver. */
const factories: { readonly [D in Driver]: StoreFactory<D> } = {
  fs: openFsStore,
  s3: openS3Store,
};

export async function openStore(options: StoreOptions): Promise<Store> {
  const factory = factories[options.driver] as StoreFactory<Driver> | undefined;
  if (factory === undefined) throw new Error(`unknown store driver ${JSON.stringify(options.driver)}`);
  return factory(options);
}

export { encodeKey, keyProblem, validateKey, validatePrefix } from "./keys.js";
export { type LogMeta, type LogState, type LogStatus, LogStreamer, type LogStreamerOptions } from "./log.js";
export { LOG_PAGE_HTML } from "./log-page.js";
export type { S3StoreOptions } from "./s3.js";
export {
  createStoreHandler,
  type StoreHandlerOptions,
  type StoreServer,
  startStoreServer,
} from "./server.js";
export { BadKeyError, ObjectExistsError, type ObjectInfo, type PutOptions, type Store } from "./types.js";
