// ESM entry of the shared subset: the package's `import` build. Prints one JSON line per check.
import { WebSocketClient } from "@tideway/client";
import { runSubset } from "./subset.mjs";

const [url, proxy] = globalThis.Deno !== undefined ? globalThis.Deno.args : process.argv.slice(2);
await runSubset(WebSocketClient, url, proxy, (check, error) => {
  console.log(
    JSON.stringify({ check, ok: error === undefined, error: error && String(error.stack ?? error) }),
  );
});
