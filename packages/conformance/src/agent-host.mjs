// The agent host: the Tideway echo agent in whatever runtime starts it (Node, Bun, Deno), driven by
// remote-agent.ts over stdio, so the server and the runner stay on the Node running the suite.
// One JSON command per line in, one JSON event per line out:
//   in:  {"run": id, "url": "ws://...", "config": {...}}   {"stop": id}
//   out: {"ready": "<runtime> <version>"} once, then {"done": id} when that connection is over.
// Plain JavaScript with node:process and node:readline only: every runtime runs it unchanged.
import process from "node:process";
import { createInterface } from "node:readline";
import { WebSocketClient } from "@tideway/client";

/** Live clients by run id, for "stop". */
const clients = new Map();

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

function runtimeName() {
  if (globalThis.Deno !== undefined) return `deno ${globalThis.Deno.version.deno}`;
  if (globalThis.Bun !== undefined) return `bun ${globalThis.Bun.version}`;
  return `node ${process.version}`;
}

/** The same echo as `tidewayAgent` in agents.ts: every message back as it came, until the end. */
async function run(id, url, config) {
  const client = new WebSocketClient(url, { reconnect: false, heartbeat: false, ...config });
  clients.set(id, client);
  try {
    await client.connect();
    for await (const message of client) await client.send(message);
  } catch {
    // A failed connection (the case's point, often) ends the echo loop: nothing to do.
  } finally {
    clients.delete(id);
    emit({ done: id });
  }
}

createInterface({ input: process.stdin })
  .on("line", (line) => {
    const command = JSON.parse(line);
    if (command.run !== undefined) void run(command.run, command.url, command.config);
    else if (command.stop !== undefined) clients.get(command.stop)?.terminate();
  })
  // The runner closed stdin: the run is over.
  .on("close", () => process.exit(0));
emit({ ready: runtimeName() });
