export * from "./manifests.js";
export * from "./rabbitmq-conf.js";
