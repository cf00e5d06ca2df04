// Live listeners only: every section of the page is an onSnapshot subscription, never a poll.
// The SDK reconnects a listener by itself after a network drop (its snapshots say fromCache
// meanwhile); a listener that *errors* (permission denied, a reset stream) is finished, so it
// is subscribed again after a growing delay, or at once when the browser comes back online.
import { onSnapshot } from "firebase/firestore";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/** Subscribe ``target`` (a document or a query); returns a function that unsubscribes. */
export function watch(name, target, onData, connection) {
  let unsubscribe = null;
  let retryTimer = null;
  let retryMs = FIRST_RETRY_MS;
  let stopped = false;

  const start = () => {
    retryTimer = null;
    if (stopped) return;
    unsubscribe = onSnapshot(
      target,
      { includeMetadataChanges: true },
      (snapshot) => {
        retryMs = FIRST_RETRY_MS;
        connection.report(name, { fromCache: snapshot.metadata.fromCache });
        onData(snapshot);
      },
      (error) => {
        console.warn(`listener ${name} failed`, error);
        connection.report(name, { error });
        unsubscribe = null;
        retryTimer = setTimeout(start, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      },
    );
  };

  const retryNow = () => {
    if (retryTimer === null) return;
    clearTimeout(retryTimer);
    start();
  };
  window.addEventListener("online", retryNow);
  start();

  return () => {
    stopped = true;
    window.removeEventListener("online", retryNow);
    if (retryTimer !== null) clearTimeout(retryTimer);
    unsubscribe?.();
    connection.forget(name);
  };
}
