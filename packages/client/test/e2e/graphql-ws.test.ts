/**
 * A library that takes a WebSocket implementation, run on Tideway's WHATWG facade: the graphql-ws
 * client (npm) against a graphql-ws server on `ws`, through a server restart on the same port. The
 * library reconnects by creating new sockets, as it does with a browser's WebSocket.
 */
import type { AddressInfo } from "node:net";
import { WebSocket, webSocketClass } from "@tideway/client";
// graphql/index.js, the CommonJS build graphql-ws loads: vitest would pick index.mjs for "graphql",
// and graphql refuses a schema built by another copy of itself.
import {
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from "graphql/index.js";
import { type Client, createClient } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { sleep, waitFor } from "../helpers/servers.js";

const TICK_MS = 20;

/** `subscription { tick }` yields 0, 1, 2... every TICK_MS, from 0 on each new subscription. */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: { hello: { type: GraphQLString, resolve: () => "world" } },
  }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      tick: {
        type: new GraphQLNonNull(GraphQLInt),
        subscribe: async function* () {
          for (let n = 0; ; n++) {
            yield { tick: n };
            await sleep(TICK_MS);
          }
        },
      },
    },
  }),
});

interface GraphqlServer {
  readonly port: number;
  /** Subscribe operations the server received. */
  readonly subscriptions: number;
  /** Drops every connection (as a crash would) and stops listening. */
  crash(): Promise<void>;
}

async function startGraphqlServer(port = 0): Promise<GraphqlServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port, path: "/graphql" });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  let subscriptions = 0;
  useServer({ schema, onSubscribe: () => void subscriptions++ }, wss);
  return {
    port: (wss.address() as AddressInfo).port,
    get subscriptions() {
      return subscriptions;
    },
    crash: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("graphql-ws on the WebSocket facade", () => {
  it.each([
    { lazy: true, impl: "WebSocket", webSocketImpl: WebSocket },
    {
      lazy: false,
      impl: "webSocketClass(options)",
      webSocketImpl: webSocketClass({ handshakeTimeout: 2_000 }),
    },
  ])(
    "resumes a subscription after a server restart on the same port (lazy: $lazy, $impl)",
    async ({ lazy, webSocketImpl }) => {
      let server = await startGraphqlServer();
      cleanups.push(() => server.crash());
      const port = server.port;
      const connected: boolean[] = [];
      const nonLazyErrors: unknown[] = [];
      const client: Client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl,
        lazy,
        onNonLazyError: (error) => nonLazyErrors.push(error),
        // Connection attempts while the server is down end with an error event (as in browsers), which
        // graphql-ws retries only if shouldRetry says so; closes are retried by default.
        retryAttempts: 50,
        retryWait: () => sleep(20),
        shouldRetry: () => true,
        on: { connected: (_socket, _payload, wasRetry) => void connected.push(wasRetry) },
      });
      cleanups.push(() => client.dispose());

      const ticks: number[] = [];
      let ended: unknown = "still running";
      const unsubscribe = client.subscribe<{ tick: number }>(
        { query: "subscription { tick }" },
        {
          next: (result) => void ticks.push(result.data?.tick ?? -1),
          error: (error) => void (ended = error),
          complete: () => void (ended = "complete"),
        },
      );
      cleanups.push(unsubscribe);

      await waitFor(() => ticks.length >= 3, 5_000, "ticks before the restart");
      expect(ticks.slice(0, 3)).toEqual([0, 1, 2]);
      expect(await client.iterate({ query: "{ hello }" }).next()).toMatchObject({
        value: { data: { hello: "world" } },
      });

      await server.crash();
      const beforeRestart = ticks.length;
      await sleep(150); // several refused attempts
      expect(ticks.length).toBe(beforeRestart);
      server = await startGraphqlServer(port);

      // The subscription starts over on the new server: 0, 1, 2 again, on the same sink.
      await waitFor(() => ticks.length >= beforeRestart + 3, 5_000, "ticks after the restart");
      expect(ticks.slice(beforeRestart, beforeRestart + 3)).toEqual([0, 1, 2]);
      expect(server.subscriptions).toBe(1);
      expect(connected).toEqual([false, true]);
      expect(ended).toBe("still running");
      expect(nonLazyErrors).toEqual([]);

      unsubscribe();
      await waitFor(() => ended === "complete", 2_000, "the subscription to complete");
    },
  );
});
