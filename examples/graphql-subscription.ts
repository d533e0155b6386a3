/**
 * A library that takes a WebSocket implementation, on Tideway: the graphql-ws client with
 * `webSocketImpl: webSocketClass(options)`, subscribed to a graphql-ws server (on `ws`) that is
 * restarted halfway. graphql-ws reconnects by opening a new socket, and the subscription resumes.
 *
 * Run: `pnpm -C examples exec node --import tsx graphql-subscription.ts` (a local server on a free
 * port; stops by itself after a few events).
 */
import type { AddressInfo } from "node:net";
import { webSocketClass } from "@tideway/client";
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createClient } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// A schema with one subscription: `tick` counts from 0, every 50 ms.
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { hello: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      tick: {
        type: new GraphQLNonNull(GraphQLInt),
        subscribe: async function* () {
          for (let n = 0; ; n++) {
            yield { tick: n };
            await sleep(50);
          }
        },
      },
    },
  }),
});

async function startServer(port: number): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/graphql" });
  await new Promise((resolve) => wss.once("listening", resolve));
  useServer({ schema }, wss);
  return wss;
}

let server = await startServer(0);
const port = (server.address() as AddressInfo).port;

const client = createClient({
  url: `ws://127.0.0.1:${port}/graphql`,
  // Tideway options for every socket graphql-ws opens (headers, proxy, tls...); one connection per socket.
  webSocketImpl: webSocketClass({ headers: { Authorization: "Bearer demo" } }),
  retryAttempts: 20,
  retryWait: () => sleep(100),
  // A refused connection is an `error` event, as in browsers: graphql-ws retries it only if told to.
  shouldRetry: () => true,
  on: { connected: (_socket, _payload, wasRetry) => console.log(wasRetry ? "reconnected" : "connected") },
});

let events = 0;
let restarted = false;
await new Promise<void>((resolve, reject) => {
  const unsubscribe = client.subscribe<{ tick: number }>(
    { query: "subscription { tick }" },
    {
      next: ({ data }) => {
        console.log(`tick ${data?.tick}${restarted ? " (after the restart)" : ""}`);
        events += 1;
        if (events === 3) void restart();
        if (restarted && data?.tick === 2) {
          unsubscribe();
          resolve();
        }
      },
      error: reject,
      complete: () => {},
    },
  );
});

async function restart(): Promise<void> {
  // Drop every connection as a crash would, and come back on the same port a moment later.
  for (const socket of server.clients) socket.terminate();
  await new Promise((resolve) => server.close(resolve));
  console.log("server down");
  await sleep(300);
  server = await startServer(port);
  restarted = true;
  console.log("server up again");
}

await client.dispose();
await new Promise((resolve) => server.close(resolve));
console.log(`done: ${events} events`);
