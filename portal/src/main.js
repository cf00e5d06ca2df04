// Start-up: read config.json, open Firestore, then one live listener per section.
import "./style.css";
import { collection, doc } from "firebase/firestore";
import { createActivity } from "./activity.js";
import { createCards } from "./cards.js";
import { renderCompliance } from "./compliance.js";
import { loadConfig } from "./config.js";
import { createConnection } from "./connection.js";
import { byId } from "./dom.js";
import { createDocuments } from "./documents.js";
import { openFirestore } from "./firebase.js";
import { renderHistory } from "./history.js";
import { renderInventory } from "./inventory.js";
import { watch } from "./live.js";

const CLOCK_MS = 1000;

async function main() {
  const connection = createConnection(byId("connection"));
  const config = await loadConfig();
  const named = (name) => `${config.collectionPrefix}${name}`;
  const where = config.emulator
    ? `${config.firebase.projectId} on the emulator at ${config.emulator.host}:${config.emulator.port}`
    : config.firebase.projectId;
  byId("project").textContent = where;
  const db = await openFirestore(config, byId("sign-in"));

  const cards = createCards(byId("cards"), config);
  watch("sync_status", collection(db, named("sync_status")), cards.update, connection);
  setInterval(cards.tick, CLOCK_MS); // ages and colours move with the clock, not with the data

  createActivity(byId("activity"), byId("activity-more"), {
    db,
    name: named("activity"),
    pageSize: config.activityPageSize,
    connection,
  });
  watch("inventory", doc(db, named("inventory"), "assets"), (snapshot) => {
    renderInventory(byId("inventory"), snapshot);
  }, connection);
  watch("compliance", doc(db, named("compliance"), "summary"), (snapshot) => {
    renderCompliance(byId("compliance"), snapshot);
  }, connection);
  watch("history", doc(db, named("history"), "summary"), (snapshot) => {
    renderHistory(byId("history"), snapshot);
  }, connection);
  createDocuments(
    { tabs: byId("doc-kinds"), list: byId("doc-list"), more: byId("doc-more"), pane: byId("doc-pane") },
    {
      db,
      name: named("documents"),
      kinds: config.documentKinds,
      pageSize: config.documentPageSize,
      connection,
    },
  );
}

main().catch((error) => {
  console.error(error);
  const banner = byId("connection");
  banner.dataset.connection = "error";
  document.body.dataset.connection = "error";
  banner.textContent = `The page could not start: ${error.message}`;
});
