// The page's settings come from config.json next to index.html, read at start-up, so one build
// serves the emulator and any real project. Fields: portal/README.md.
const DEFAULTS = {
  collectionPrefix: "",
  activityPageSize: 20,
  documentPageSize: 50,
  documentKinds: ["doc", "runbook", "policy", "config"],
  redAfterSeconds: null, // per-layer defaults: freshness.js
  auth: { googleSignIn: false },
};

export class ConfigError extends Error {}

function need(object, field, where) {
  if (!object || typeof object[field] !== "string" || object[field] === "") {
    throw new ConfigError(`config.json: ${where}.${field} is required`);
  }
}

/** Check and complete a parsed config (exported for the embedding Portal's own use). */
export function checkConfig(raw) {
  const config = { ...DEFAULTS, ...raw, auth: { ...DEFAULTS.auth, ...raw?.auth } };
  for (const field of ["apiKey", "projectId", "appId"]) need(config.firebase, field, "firebase");
  if (config.emulator) {
    need(config.emulator, "host", "emulator");
    if (!Number.isInteger(config.emulator.port)) {
      throw new ConfigError("config.json: emulator.port must be a number");
    }
    const token = config.emulator.mockUserToken;
    if (token && !token.sub && !token.user_id) {
      throw new ConfigError("config.json: emulator.mockUserToken needs a sub (the user id)");
    }
  } else {
    need(config.firebase, "authDomain", "firebase");
  }
  return config;
}

export async function loadConfig(url = new URL("config.json", document.baseURI)) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new ConfigError(`config.json: ${response.status} from ${url}`);
  return checkConfig(await response.json());
}
