import { nginxPeer } from "./nginx.js";
import type { PeerSpec } from "./peer.js";
import { aiohttpPeer, websocketsPeer } from "./python.js";
import { wsPeer } from "./ws-server.js";

/** Every peer of the matrix, in report order. */
export const ALL_PEERS: readonly PeerSpec[] = [wsPeer, websocketsPeer, aiohttpPeer, nginxPeer];
