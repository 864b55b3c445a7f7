// The document's socket: the stock y-websocket provider, a short-lived token renewed before it
// expires, and the connection state always visible (connected / reconnecting / offline /
// stopped).
import type * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { h } from '../dom';
import type { Notice } from './notice';
import { socketToken } from '../session';

export interface Connection {
  provider: WebsocketProvider;
  /** `.conn`, with the state in `data-state`. */
  status: HTMLSpanElement;
  stop(): void;
}

/** How long before a token's expiry it is renewed: at 60 % of its life, at least 5 s apart. */
const RENEW_AT = 0.6;
const RENEW_MIN_MS = 5_000;
/** After a failed renewal (offline, signed out): try again in 10 s. */
const RENEW_RETRY_MS = 10_000;

export function connect(id: string, ydoc: Y.Doc, notice: Notice): Connection {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
  // The socket needs a short-lived token: fetched before connecting, and renewed well before
  // it expires. The server closes a socket whose token ran out (4001); y-websocket then
  // reconnects with the renewed token in `params` (its URL is read at each connect).
  const provider = new WebsocketProvider(url, id, ydoc, { disableBc: true, connect: false, params: {} });

  let renewal = 0;
  let stopped = false;
  const renew = async () => {
    try {
      const t = await socketToken(id);
      provider.params = { token: t.token };
      if (!provider.shouldConnect) provider.connect();
      const left = Date.parse(t.expires_at) - Date.now();
      if (!stopped) renewal = window.setTimeout(renew, Math.max(RENEW_MIN_MS, left * RENEW_AT));
    } catch (e) {
      notice.fail(e);
      if (!stopped) renewal = window.setTimeout(renew, RENEW_RETRY_MS);
    }
  };
  void renew();

  const status = h('span', { class: 'conn', role: 'status', 'aria-live': 'polite' });
  const setState = (state: string) => {
    status.textContent = state;
    status.dataset['state'] = state;
  };
  const showStatus = (s: string) =>
    setState(!navigator.onLine ? 'offline' : s === 'connected' ? 'connected' : 'reconnecting');
  provider.on('status', ({ status: s }) => showStatus(s));
  // A final refusal (close 4400-4499: the document is full, or this browser's changes cannot be
  // accepted): y-websocket stops reconnecting; say why instead of spinning.
  provider.on('closed', ({ reason }: { reason: string }) => {
    setState('stopped');
    notice.fail(new Error(`The server refused this editor's changes: ${reason}`));
  });
  const onNet = () => showStatus(provider.wsconnected ? 'connected' : 'disconnected');
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  showStatus('connecting');

  return {
    provider,
    status,
    stop() {
      stopped = true;
      clearTimeout(renewal);
      provider.destroy();
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
}
