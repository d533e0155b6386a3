// The same example in a Web Worker: the page posts the server's URL, the worker posts the results.
import { run } from "./app.js";

self.onmessage = async (event) => {
  self.postMessage(await run(event.data));
};
