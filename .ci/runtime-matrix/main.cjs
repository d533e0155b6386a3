// CJS entry of the shared subset: the package's `require` build. Prints one JSON line per check.
const { WebSocketClient } = require("@tideway/client");

import("./subset.mjs").then(({ runSubset }) =>
  runSubset(WebSocketClient, process.argv[2], process.argv[3], (check, error) => {
    console.log(
      JSON.stringify({ check, ok: error === undefined, error: error && String(error.stack ?? error) }),
    );
  }),
);
