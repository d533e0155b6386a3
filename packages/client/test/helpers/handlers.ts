import type { ConnectionHandlers } from "../../src/client-connection.js";
import type { Message } from "../../src/events.js";

/** Connection handlers that collect the messages and ignore everything else. */
export function collecting(messages: Message[]): ConnectionHandlers {
  return {
    client: {},
    emit: () => {},
    deliverPart: () => {},
    onConnect: () => {},
    onOpen: () => {},
    onMessage: (m) => messages.push(m),
    onError: () => {},
    onClose: () => {},
  };
}
