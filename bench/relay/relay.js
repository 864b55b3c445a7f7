// The floor of `make bench`: a Durable Object in the same workerd that relays every frame to
// every other socket of its document and does nothing else (no Yjs, no storage). It uses the
// same WebSocket Hibernation API as Folio's object, so the difference between the two is the
// work Folio does per frame. It keeps the update frames it relayed in memory, in order, and
// answers a client's SyncStep1 with all of them and an empty SyncStep2, so stock y-websocket
// clients sync (a late joiner too) without any Yjs here. Sync handshakes are not relayed: a
// relay of every SyncStep1 to every peer would make each join cost n^2 frames.
const EMPTY_SYNC_STEP2 = new Uint8Array([0, 1, 2, 0, 0]);

export class Relay {
  constructor(ctx) {
    this.ctx = ctx;
    this.updates = [];
  }

  async fetch() {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(ws, message) {
    const bytes = new Uint8Array(message);
    if (bytes[0] === 0 && bytes[1] === 0) {
      for (const update of this.updates) ws.send(update);
      ws.send(EMPTY_SYNC_STEP2);
      return;
    }
    if (bytes[0] === 0) this.updates.push(message);
    else if (bytes[0] !== 1) return; // only updates and awareness are relayed
    for (const peer of this.ctx.getWebSockets()) {
      if (peer === ws) continue;
      try { peer.send(message); } catch { /* closing */ }
    }
  }

  webSocketClose(ws, code) {
    try { ws.close(code === 1005 ? 1000 : code, 'closed'); } catch { /* already closed */ }
  }
}

export default {
  fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1) || 'doc';
    return env.RELAY.get(env.RELAY.idFromName(name)).fetch(request);
  },
};
