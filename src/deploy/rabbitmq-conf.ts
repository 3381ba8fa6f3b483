/** rabbitmq.conf's format: `key = value` lines, `#` comments; keys are unique. */

export type RabbitConf = Map<string, string>;

export function parseRabbitConf(text: string, source = "rabbitmq.conf"): RabbitConf {
  const conf: RabbitConf = new Map();
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([\w.$-]+)\s*=\s*(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) {
      throw new Error(`${source}:${index + 1}: expected "key = value", got "${line}"`);
    }
    if (conf.has(match[1])) throw new Error(`${source}:${index + 1}: ${match[1]} is set twice`);
    conf.set(match[1], match[2].trim());
  }
  return conf;
}

export function formatRabbitConf(conf: RabbitConf): string {
  return `${[...conf].map(([key, value]) => `${key} = ${value}`).join("\n")}\n`;
}
