// One verdict on the page's connection, from three signals: the browser's navigator.onLine,
// each listener's last error, and whether its last snapshot came from the SDK's cache
// (metadata.fromCache: the SDK could not confirm the data with the server yet).
import { h } from "./dom.js";

const MESSAGES = {
  connecting: "Connecting to Firestore…",
  live: "Live",
  cached: "Reconnecting: showing the last data received",
  offline: "Offline: showing the last data received; it will update when the connection returns",
  error: "A live listener failed; retrying",
};

export function createConnection(banner) {
  const listeners = new Map(); // name -> {fromCache, error, seen}
  let online = navigator.onLine;

  const verdict = () => {
    if (!online) return "offline";
    const states = [...listeners.values()];
    if (states.some((state) => state.error)) return "error";
    if (states.length === 0 || states.some((state) => !state.seen)) return "connecting";
    return states.some((state) => state.fromCache) ? "cached" : "live";
  };

  const render = () => {
    const state = verdict();
    const errors = [...listeners.entries()]
      .filter(([, listener]) => listener.error)
      .map(([name, listener]) => `${name}: ${listener.error.code ?? listener.error.message}`);
    banner.dataset.connection = state;
    document.body.dataset.connection = state;
    banner.replaceChildren(h("span", { class: "dot" }), MESSAGES[state]);
    if (errors.length) banner.append(h("span", { class: "detail" }, ` (${errors.join("; ")})`));
  };

  window.addEventListener("online", () => {
    online = true;
    render();
  });
  window.addEventListener("offline", () => {
    online = false;
    render();
  });
  render();

  return {
    /** A listener's news: {fromCache} on a snapshot, {error} when it failed. */
    report(name, news) {
      const state = listeners.get(name) ?? { fromCache: true, error: null, seen: false };
      if (news.error) Object.assign(state, { error: news.error });
      else Object.assign(state, { fromCache: news.fromCache, error: null, seen: true });
      listeners.set(name, state);
      render();
    },
    forget(name) {
      listeners.delete(name);
      render();
    },
    isOnline: () => online,
  };
}
